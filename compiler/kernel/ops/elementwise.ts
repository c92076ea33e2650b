// Elementwise ops as nested loops over the result shape; operands are read with broadcasting.
import { add, bin, dim, div, f, flat, i, mul, par, store, sub, toF, un } from '../expr.ts';
import type { Expr, Stmt } from '../ir.ts';
import { read, type OpContext, type OpLowering, type Operand } from './context.ts';
import type { Dim } from '../../ir/types.ts';
import { parseEw, type EwExpr } from '../../ir/elementwise-expr.ts';

/** Loops over every coordinate of `shape`; `body` gets the coordinate variables. */
export function forEachIndex(shape: Dim[], body: (coords: Expr[]) => Stmt[], prefix = 'i'): Stmt[] {
  const vars = shape.map((_, d) => `${prefix}${d}`);
  let inner = body(vars.map((v) => ({ k: 'var', name: v, type: 'i32' }) as Expr));
  for (let d = shape.length - 1; d >= 0; d--) inner = [par(vars[d]!, dim(shape[d]!), inner)];
  return inner;
}

/** The flat index into `op` of the result coordinates, with NumPy broadcasting. */
export function broadcastRead(op: Operand, outShape: Dim[], coords: Expr[]): Expr {
  const offset = outShape.length - op.shape.length;
  const cs = op.shape.map((d, j) => (d === 1 && outShape[offset + j] !== 1 ? i(0) : coords[offset + j]!));
  return flat(cs, op.shape.map(dim));
}

const unaryFns: Record<string, (x: Expr) => Expr> = {
  relu: (x) => bin('max', x, f(0)),
  gelu: (x) => mul(mul(f(0.5), x), add(f(1), un('erf', mul(x, f(Math.SQRT1_2))))),
  gelu_tanh: (x) => mul(mul(f(0.5), x), add(f(1), un('tanh', mul(f(Math.sqrt(2 / Math.PI)), add(x, mul(f(0.044715), mul(x, mul(x, x)))))))),
  silu: (x) => div(x, add(f(1), un('exp', un('neg', x)))),
  sigmoid: (x) => div(f(1), add(f(1), un('exp', un('neg', x)))),
  tanh: (x) => un('tanh', x),
  exp: (x) => un('exp', x),
  log: (x) => un('log', x),
  neg: (x) => un('neg', x),
  sqrt: (x) => un('sqrt', x),
  rsqrt: (x) => un('rsqrt', x),
  square: (x) => mul(x, x),
};

/** The activations a matmul epilogue may apply. */
export const activationFns = unaryFns;

const binaryFns: Record<string, (a: Expr, b: Expr) => Expr> = {
  add, sub, mul, div, maximum: (a, b) => bin('max', a, b),
};

/** An elementwise function of the operands, written out over the result's loops. */
export function elementwise(fn: (xs: Expr[]) => Expr): OpLowering {
  return ({ ins, outs }) => {
    const out = outs[0]!;
    return forEachIndex(out.shape, (c) => [store(out.buffer, flat(c, out.shape.map(dim)), fn(ins.map((x) => read(x, broadcastRead(x, out.shape, c)))))]);
  };
}

/** A fused expression's value at one coordinate, the operands already read. */
function ewValue(e: EwExpr, xs: Expr[]): Expr {
  if ('input' in e) return xs[e.input]!;
  const args = e.args.map((a) => ewValue(a, xs));
  if (e.op === 'scale') return mul(args[0]!, f(e.factor!));
  return unaryFns[e.op] ? unaryFns[e.op]!(args[0]!) : binaryFns[e.op]!(args[0]!, args[1]!);
}

export const elementwiseOps: Record<string, OpLowering> = {
  elementwise: (ctx: OpContext) => elementwise((xs) => ewValue(parseEw(String(ctx.attrs.expr)), xs))(ctx),
  ...Object.fromEntries(Object.entries(unaryFns).map(([k, fn]) => [k, elementwise(([x]) => fn(x!))])),
  ...Object.fromEntries(Object.entries(binaryFns).map(([k, fn]) => [k, elementwise(([a, b]) => fn(a!, b!))])),
  scale: (ctx: OpContext) => elementwise(([x]) => mul(x!, f(ctx.attrs.factor as number)))(ctx),
  const: ({ outs, attrs }) => [store(outs[0]!.buffer, i(0), outs[0]!.dtype === 'f32' ? f(attrs.value as number) : i(attrs.value as number))],
  arange: ({ outs }) => forEachIndex(outs[0]!.shape, ([c]) => [store(outs[0]!.buffer, c!, c!)]),
  expand: elementwise(([x]) => x!),
  cast: (ctx) => elementwise(([x]) => (ctx.outs[0]!.dtype === 'f32' ? toF(x!) : x!))(ctx),
};

