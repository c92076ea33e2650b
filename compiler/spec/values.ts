// Values of the .moe expression language. Objects are lazy: each field is evaluated when read,
// so a block's fields can depend on the layer index of the stack that instantiates it.
import type { Expr } from '../../dsl/ast.ts';
import type { Span } from '../../dsl/source.ts';

export type Value =
  | { t: 'number'; v: number }
  | { t: 'string'; v: string }
  | { t: 'bool'; v: boolean }
  | { t: 'none' }
  /** A bare word where an enumeration is expected, such as `act: swiglu`. */
  | { t: 'symbol'; v: string }
  | { t: 'list'; items: Value[] }
  | ObjectValue;

export interface LazyField {
  key: string;
  keySpan: Span;
  expr: Expr;
  scope: Scope;
}

export interface ObjectValue {
  t: 'object';
  /** The component kind (`moe`, `attention`, …), or undefined for a plain `{ … }`. */
  type?: string;
  typeSpan?: Span;
  /** The name it was defined under, for messages. */
  name?: string;
  fields: Map<string, LazyField>;
  span: Span;
}

export interface Binding {
  name: string;
  span: Span;
  expr: Expr;
  overridable: boolean;
  /** Evaluated values by layer context ('' outside any stack). */
  cache: Map<string, Value>;
  evaluating: boolean;
}

export interface Scope {
  bindings: Map<string, Binding>;
}

/** Dynamic context while a stack instantiates its block: the layer index is visible as `layer`. */
export interface EvalContext {
  layer?: number;
  layers?: number;
}

export class EvalError extends Error {
  constructor(message: string, readonly span: Span, readonly hint?: string) {
    super(message);
  }
}

export function describeValue(v: Value): string {
  switch (v.t) {
    case 'number': return `the number ${formatNumber(v.v)}`;
    case 'string': return `the string "${v.v}"`;
    case 'bool': return `${v.v}`;
    case 'none': return 'none';
    case 'symbol': return `the name '${v.v}'`;
    case 'list': return `a list of ${v.items.length}`;
    case 'object': return v.type ? `${v.name ? `'${v.name}', ` : ''}a ${v.type}` : 'an object';
  }
}

export function formatNumber(n: number): string {
  if (Number.isInteger(n)) return String(n);
  return String(Number(n.toPrecision(6)));
}
