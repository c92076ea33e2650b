// What every target's tiled matmul shares: the epilogue of a `gemm` kernel as a kernel-IR expression (rendered by
// the target like any loop nest), the rows each expert owns, and the grid of output tiles. The tile loops themselves
// are the targets' templates; the arithmetic around them lives here once.
import { add, div, fvar, i, ivar, load, loadI, mul, sub } from '../compiler/kernel/expr.ts';
import type { Expr, GemmSpec } from '../compiler/kernel/ir.ts';
import { activationFns } from '../compiler/kernel/ops/elementwise.ts';

/**
 * out[row, n] = act(v + bias[e, n]) · u + residual[row, n], as the loop nest computes it, in terms of the locals a
 * template defines: `v` (and `u`, gated) the accumulated products, `row` the output row, `n` its column, `e` the
 * expert (0 when not grouped). `width` is how the template knows N (a constant unless it takes N at run time).
 */
export function gemmEpilogue(g: GemmSpec, width: Expr = i(g.N)): Expr {
  const e = ivar('e');
  const row = ivar('row');
  const n = ivar('n');
  let y: Expr = fvar('v');
  if (g.bias) y = add(y, load(g.bias, add(mul(e, width), n)));
  if (g.act) y = activationFns[g.act]!(y);
  if (g.weights.length === 2) y = mul(y, fvar('u'));
  if (g.residual) y = add(y, load(g.residual, add(mul(row, width), n)));
  return y;
}

/** The rows expert `e` multiplies: offsets[e] … offsets[e+1]-1 of a grouped product, else all of them. */
export function gemmRows(g: GemmSpec): { start: Expr; count: Expr } {
  if (!g.offsets) return { start: i(0), count: g.rows };
  const e = ivar('e');
  return { start: loadI(g.offsets, e), count: sub(loadI(g.offsets, add(e, i(1))), loadI(g.offsets, e)) };
}

/** ⌈a / b⌉ as an i32 expression the host can evaluate. */
export const ceilDiv = (a: Expr, b: number): Expr => div(add(a, i(b - 1)), i(b));

/**
 * Blocks of a tiled matmul with square tiles of `tile` outputs: column tiles × row tiles (of all rows: a grouped
 * product's experts each get as many, and blocks past an expert's own rows return at once) × experts.
 */
export const gemmTiles = (g: GemmSpec, tile: number): Expr[] => [i(Math.ceil(g.N / tile)), ceilDiv(g.rows, tile), i(g.experts ?? 1)];
