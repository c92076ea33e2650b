// The WGSL target's matrix products: kernels carrying a `gemm` description (linear, linear_add, gated_linear and
// their grouped forms over experts) become the tiled matmul of templates.ts instead of one invocation per output
// element; the epilogue (bias, activation, gating, residual) is a kernel-IR expression rendered in place.
import Handlebars from 'handlebars';
import { add, fvar, i, ivar, load, loadI, mul, sub } from '../../compiler/kernel/expr.ts';
import type { Expr, GemmSpec, Kernel } from '../../compiler/kernel/ir.ts';
import { activationFns } from '../../compiler/kernel/ops/elementwise.ts';
import { exprRenderer, type WgslKernel } from './render.ts';
import { gemmTemplate } from './templates.ts';

const template = Handlebars.compile(gemmTemplate, { noEscape: true, strict: true });
/** Outputs per invocation along each axis; the workgroup is 16×16, so a tile is 16·PER wide. K steps of BK keep
 * the gated form's three tiles within WebGPU's default 16 KiB of workgroup memory. */
const PER = 8;
const TILE = 16 * PER;
const BK = 8;

export function renderGemm(k: Kernel, g: GemmSpec, sizes: string[]): WgslKernel {
  const r = exprRenderer(k, sizes);
  const id = (name: string) => r.bufferId.get(name)!;
  const gated = g.weights.length === 2;
  const e = ivar('e');
  const row = ivar('row');
  const n = ivar('n');
  let y: Expr = fvar('v');
  if (g.bias) y = add(y, load(g.bias, add(mul(e, i(g.N)), n)));
  if (g.act) y = activationFns[g.act]!(y);
  if (gated) y = mul(y, fvar('u'));
  if (g.residual) y = add(y, load(g.residual, add(mul(row, i(g.N)), n)));
  const rowStart = g.offsets ? r.expr(loadI(g.offsets, e)) : '0i';
  const rowCount = g.offsets ? r.expr(sub(loadI(g.offsets, add(e, i(1))), loadI(g.offsets, e))) : r.expr(g.rows);
  const epilogue = r.expr(y);
  const code = template({
    name: k.name, loc: k.loc ?? '', ops: k.ops.join(', '), erf: r.uses.erf,
    buffers: k.buffers.map((b) => ({ id: id(b.name), type: r.bufferType.get(b.name), access: b.access === 'read' ? 'read' : 'read_write' })),
    sizesBinding: k.buffers.length,
    sizeVecs: Math.max(1, Math.ceil(sizes.length / 4)),
    N: g.N, K: g.K, gated, tile: TILE, per: PER, bk: BK, row: TILE + 4,
    x: id(g.x), w: id(g.weights[0]!), wu: gated ? id(g.weights[1]!) : '', out: id(g.out),
    rowStart, rowCount, epilogue,
  });
  // Workgroups: column tiles × row tiles (of all rows: a grouped product's experts each get as many) × experts.
  const rowTiles = { k: 'bin', op: '/', a: add(g.rows, i(TILE - 1)), b: i(TILE), type: 'i32' } as Expr;
  return { name: k.name, code, grid: [], dispatch: [i(Math.ceil(g.N / TILE)), rowTiles, i(g.experts ?? 1)] };
}
