// The graph IR: typed SSA values, named parameters and a flat list of nodes in execution order. Plain data,
// so it can be printed, diffed, serialised to JSON and parsed back.

export type DType = 'f32' | 'f16' | 'bf16' | 'i32' | 'i64' | 'bool';
export const dtypes: readonly DType[] = ['f32', 'f16', 'bf16', 'i32', 'i64', 'bool'];

/** A dimension: a number, or a symbolic product such as `batch*seq` or `2*batch*seq`. */
export type Dim = number | string;

export interface TensorType {
  dtype: DType;
  shape: Dim[];
}

/** Attribute values. Strings are names or modes; arrays of strings are symbolic shapes. */
export type Attr = number | boolean | string | Dim[];

export interface Input {
  name: string;
  type: TensorType;
}

export interface Param {
  name: string;
  type: TensorType;
  /** e.g. { experts: 8 } on routed-expert weights, used by stats for active parameters. */
  attrs: Record<string, Attr>;
}

export interface Node {
  op: string;
  /** `%value` or `@param` references. */
  inputs: string[];
  outputs: string[];
  attrs: Record<string, Attr>;
  /** Result types, one per output; absent until shape inference has run. */
  types?: TensorType[];
  /** Where in the model the node comes from, e.g. `decoder.3.moe`. */
  loc?: string;
}

export interface Output {
  name: string;
  value: string;
}

export interface Graph {
  name: string;
  inputs: Input[];
  params: Param[];
  nodes: Node[];
  outputs: Output[];
}

export function isParamRef(ref: string): boolean {
  return ref.startsWith('@');
}
