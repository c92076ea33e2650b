// Constructors for kernel expressions and statements, so op lowerings read like the loops they describe.
import type { Dim } from '../ir/types.ts';
import type { BinOp, Expr, ScalarType, Stmt, UnOp } from './ir.ts';

export const f = (value: number): Expr => ({ k: 'const', value, type: 'f32' });
export const i = (value: number): Expr => ({ k: 'const', value, type: 'i32' });
export const ivar = (name: string): Expr => ({ k: 'var', name, type: 'i32' });
export const fvar = (name: string): Expr => ({ k: 'var', name, type: 'f32' });
export const size = (name: string): Expr => ({ k: 'size', name });
export const load = (buffer: string, index: Expr): Expr => ({ k: 'load', buffer, index, type: 'f32' });
export const loadI = (buffer: string, index: Expr): Expr => ({ k: 'load', buffer, index, type: 'i32' });

function typeOf(e: Expr): ScalarType {
  return e.k === 'size' ? 'i32' : e.type;
}

const comparisons = new Set<BinOp>(['<', '<=', '==', '!=', '&&', '||']);

export function bin(op: BinOp, a: Expr, b: Expr): Expr {
  // Fold integer constants so index arithmetic stays readable in dumps.
  if (a.k === 'const' && b.k === 'const' && a.type === 'i32' && b.type === 'i32' && ['+', '-', '*'].includes(op)) {
    return i(op === '+' ? a.value + b.value : op === '-' ? a.value - b.value : a.value * b.value);
  }
  if (op === '*' && ((a.k === 'const' && a.value === 1) || (b.k === 'const' && b.value === 1))) return a.k === 'const' && a.value === 1 ? b : a;
  if (op === '+' && ((a.k === 'const' && a.value === 0 && a.type === 'i32') || (b.k === 'const' && b.value === 0 && b.type === 'i32'))) {
    return a.k === 'const' && a.value === 0 ? b : a;
  }
  return { k: 'bin', op, a, b, type: comparisons.has(op) ? 'bool' : typeOf(a) };
}

export const add = (a: Expr, b: Expr) => bin('+', a, b);
export const sub = (a: Expr, b: Expr) => bin('-', a, b);
export const mul = (a: Expr, b: Expr) => bin('*', a, b);
export const div = (a: Expr, b: Expr) => bin('/', a, b);
export const lt = (a: Expr, b: Expr) => bin('<', a, b);
export const un = (op: UnOp, a: Expr): Expr => ({ k: 'un', op, a, type: typeOf(a) });
export const select = (cond: Expr, a: Expr, b: Expr): Expr => ({ k: 'select', cond, a, b, type: typeOf(a) });
export const toF = (a: Expr): Expr => (typeOf(a) === 'f32' ? a : { k: 'cast', a, type: 'f32' });
export const toI = (a: Expr): Expr => (typeOf(a) === 'i32' ? a : { k: 'cast', a, type: 'i32' });

/** Row-major flat index of coordinates in a shape of extents. */
export function flat(coords: Expr[], extents: Expr[]): Expr {
  let idx: Expr = i(0);
  coords.forEach((c, d) => {
    idx = d === 0 ? c : add(mul(idx, extents[d]!), c);
  });
  return idx;
}

/** A dimension as an i32 expression: numbers are constants, symbols are run-time sizes. */
export function dim(d: Dim): Expr {
  if (typeof d === 'number') return i(d);
  let e: Expr | undefined;
  for (const part of d.split('*')) {
    const term = /^\d+$/.test(part) ? i(Number(part)) : size(part);
    e = e ? mul(e, term) : term;
  }
  return e ?? i(1);
}

export const loop = (v: string, extent: Expr, body: Stmt[], parallel = false): Stmt => ({ k: 'for', var: v, extent, parallel, body });
export const par = (v: string, extent: Expr, body: Stmt[]): Stmt => loop(v, extent, body, true);
export const letF = (name: string, value: Expr): Stmt => ({ k: 'let', name, value, type: 'f32' });
export const letI = (name: string, value: Expr): Stmt => ({ k: 'let', name, value, type: 'i32' });
export const set = (name: string, value: Expr): Stmt => ({ k: 'set', name, value });
export const store = (buffer: string, index: Expr, value: Expr): Stmt => ({ k: 'store', buffer, index, value });
export const when = (cond: Expr, then: Stmt[]): Stmt => ({ k: 'if', cond, then });

/** The product of dimensions as an i32 expression (the element count of a shape). */
export const product = (ds: readonly Dim[]): Expr => ds.reduce<Expr>((e, d) => mul(e, dim(d)), i(1));
