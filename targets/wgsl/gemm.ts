// The WGSL target's matrix products: kernels carrying a `gemm` description (linear, linear_add, gated_linear and
// their grouped forms over experts) become the tiled matmul of templates.ts instead of one invocation per output
// element; the epilogue (bias, activation, gating, residual) is a kernel-IR expression rendered in place.
import Handlebars from 'handlebars';
import type { GemmSpec, Kernel } from '../../compiler/kernel/ir.ts';
import { add, bin, i, ivar, load, sub } from '../../compiler/kernel/expr.ts';
import { ceilDiv, gemmEpilogue, gemmRows } from '../../codegen/gemm.ts';
import { exprRenderer, type HalfWeights, type WgslKernel, type WgslPass } from './render.ts';
import { gemmTemplate } from './templates.ts';

const template = Handlebars.compile(gemmTemplate, { noEscape: true, strict: true });
/** Workgroups are 16×16 invocations; K steps of BK keep the gated form's three tiles within WebGPU's default 16 KiB
 * of workgroup memory. */
const BK = 8;
const PN = 8;
const TN = 16 * PN;
/** Rows per tile: 128 (8 per invocation) for products with many rows per expert; 16 (one each) when an expert has
 * few, where a 128-row tile would mostly multiply zeros (Mixtral at 16 tokens: 4 rows per expert). */
const tall = 8;
const short = 1;
/** Below this many rows per expert on average, the short tiles run. */
const shortBelow = 48;

export function renderGemm(k: Kernel, g: GemmSpec, sizes: string[], half?: HalfWeights): WgslKernel {
  const r = exprRenderer(k, sizes, half);
  const id = (name: string) => r.bufferId.get(name)!;
  const gated = g.weights.length === 2;
  const rows = gemmRows(g);
  const rowStart = r.expr(rows.start);
  const rowCount = r.expr(rows.count);
  const epilogue = r.expr(gemmEpilogue(g));
  const experts = g.offsets ? (g.experts ?? 1) : 0;
  // Weight element l_wi (clamped to the stack by the template), read as stored: f32, f16 or packed f16 pairs.
  const weight = (name: string) => r.expr(load(name, ivar('wi')));
  const render = (pm: number): WgslPass => {
    const tm = 16 * pm;
    const code = template({
      ...r.header(),
      name: k.name, loc: k.loc ?? '', ops: k.ops.join(', '),
      N: g.N, K: g.K, gated, tm, tn: TN, pm, pn: PN, bk: BK, experts, weights: g.N * g.K * Math.max(1, g.experts ?? 1),
      x: id(g.x), w: weight(g.weights[0]!), wu: gated ? weight(g.weights[1]!) : '', out: id(g.out),
      rowStart, rowCount, epilogue,
    });
    // Row tiles: of all rows, plus one partial tile per expert at most when they are packed over the experts.
    const rowTiles = experts ? add(ceilDiv(g.rows, tm), i(experts)) : ceilDiv(g.rows, tm);
    return { code, grid: [], dispatch: [i(Math.ceil(g.N / TN)), rowTiles, i(1)] };
  };
  // rows < 48 · experts: the short tiles; else the tall ones (exactly one of the two passes runs).
  const few = bin('<', g.rows, i(shortBelow * Math.max(1, experts)));
  return { name: k.name, ...render(tall), when: sub(i(1), few), next: [{ ...render(short), when: few }] };
}
