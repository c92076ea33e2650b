// Tensors of the reference executor: a shape and row-major data. Floating-point values of any dtype are held in
// a Float32Array, integers in an Int32Array.
import type { Attr, DType } from '../../compiler/ir/types.ts';

export interface Tensor {
  dtype: DType;
  shape: number[];
  data: Float32Array | Int32Array;
}

export interface KernelContext {
  /** Sizes of the symbolic dimensions (batch, seq, dec_seq). */
  sizes: Record<string, number>;
  /** Concrete result shapes, from the node's types. */
  outShapes: number[][];
}

export type Kernel = (ins: Tensor[], attrs: Record<string, Attr>, ctx: KernelContext) => Tensor[];

export const numel = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

export function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

export const isIntType = (d: DType) => d === 'i32' || d === 'i64' || d === 'bool';

export function f32(shape: number[], data?: Float32Array): Tensor {
  return { dtype: 'f32', shape, data: data ?? new Float32Array(numel(shape)) };
}

export function i32(shape: number[], data?: Int32Array): Tensor {
  return { dtype: 'i32', shape, data: data ?? new Int32Array(numel(shape)) };
}

/** Normalises a possibly negative axis. */
export function axisOf(rank: number, a: Attr | undefined, fallback = -1): number {
  const axis = typeof a === 'number' ? a : fallback;
  return axis < 0 ? rank + axis : axis;
}

/** Splits a shape around an axis into (outer, n, inner) extents. */
export function around(shape: readonly number[], axis: number): [number, number, number] {
  return [numel(shape.slice(0, axis)), shape[axis]!, numel(shape.slice(axis + 1))];
}
