// The WGSL target's matrix products: kernels carrying a `gemm` description (linear, linear_add, gated_linear and
// their grouped forms over experts) become the tiled matmul of templates.ts instead of one invocation per output
// element; the epilogue (bias, activation, gating, residual) is a kernel-IR expression rendered in place.
import Handlebars from 'handlebars';
import type { GemmSpec, Kernel } from '../../compiler/kernel/ir.ts';
import { gemmEpilogue, gemmRows, gemmTiles } from '../../codegen/gemm.ts';
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
  const rows = gemmRows(g);
  const rowStart = r.expr(rows.start);
  const rowCount = r.expr(rows.count);
  const epilogue = r.expr(gemmEpilogue(g));
  const code = template({
    name: k.name, loc: k.loc ?? '', ops: k.ops.join(', '), erf: r.uses.erf,
    buffers: k.buffers.map((b) => ({ id: id(b.name), type: r.bufferType.get(b.name), access: b.access === 'read' ? 'read' : 'read_write' })),
    sizesBinding: k.buffers.length,
    sizeVecs: Math.max(1, Math.ceil(sizes.length / 4)),
    N: g.N, K: g.K, gated, tile: TILE, per: PER, bk: BK, row: TILE + 4,
    x: id(g.x), w: id(g.weights[0]!), wu: gated ? id(g.weights[1]!) : '', out: id(g.out),
    rowStart, rowCount, epilogue,
  });
  return { name: k.name, code, grid: [], dispatch: gemmTiles(g, TILE) };
}
