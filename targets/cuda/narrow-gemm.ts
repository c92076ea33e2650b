// The CUDA target's matrix products with few outputs a row (a router: N = the experts, 8 … 64), in f32 as routers
// always are (Switch's selective precision). The tiled SIMT matmul gives such a product one column tile and walks K
// serially in steps of 8: at 16 tokens one block took 0.7 ms over K = 4096, and at 4096 tokens 32 blocks did. Here a
// warp takes R rows and its lanes split K, each lane holding R × N partial sums that a butterfly of shuffles adds up
// at the end; the weights (N × K, small) pass through shared memory once per block of 8 warps.
import Handlebars from 'handlebars';
import { i, size } from '../../compiler/kernel/expr.ts';
import type { GemmSpec, Kernel } from '../../compiler/kernel/ir.ts';
import { cStyleRenderer } from '../../codegen/c-style.ts';
import { ceilDiv, gemmEpilogue, gemmRows } from '../../codegen/gemm.ts';
import { bufferParam, kernelComment, type CudaFunction } from './render.ts';
import { bf16Spelling, cudaSpelling, type Half } from './spelling.ts';
import { narrowGemmTemplate } from './templates.ts';

const template = Handlebars.compile(narrowGemmTemplate, { noEscape: true, strict: true });

/** The widest N this form takes: R × N partial sums a lane, at most 128 registers. */
export const narrowMax = 64;
const WARPS = 8;

/** Products this form runs: plain (not gated, not grouped), N ≤ narrowMax. */
export const isNarrow = (g: GemmSpec) => g.weights.length === 1 && !g.offsets && g.N <= narrowMax;

/** Rows a warp takes: as many as keep R × N ≤ 128 (8 at most). */
const rowsPerWarp = (n: number) => Math.max(1, Math.min(8, Math.floor(128 / n)));

export function renderNarrowGemm(k: Kernel, g: GemmSpec, sizes: string[], entry = k.name, bf16: ReadonlySet<string> = new Set(), half: Half = 'bf16'): CudaFunction {
  if (!isNarrow(g)) throw new Error(`kernel ${k.name}: the narrow matmul takes plain products of at most ${narrowMax} outputs a row`);
  const r = cStyleRenderer(k, sizes, bf16.size ? bf16Spelling(bf16, half) : cudaSpelling);
  const id = (name: string) => r.bufferId.get(name)!;
  const rows = gemmRows(g);
  const R = rowsPerWarp(g.N);
  const epilogue = r.expr(gemmEpilogue(g, size('#N')));
  const code = template({
    entry, warps: WARPS, threads: 32 * WARPS, r: R, n: g.N,
    params: k.buffers.map((b) => bufferParam(b, id(b.name), bf16)),
    x: id(g.x), w: id(g.weights[0]!), out: id(g.out),
    router: !!k.router, ...(k.router ? { probs: id(k.router.probs), values: id(k.router.values), indices: id(k.router.indices), k: k.router.k, normalize: k.router.normalize } : {}),
    rowStart: r.expr(rows.start), rowCount: r.expr(rows.count), epilogue, expert: epilogue.includes('l_e'), column: epilogue.includes('l_n'),
  });
  const launch = { grid: [ceilDiv(g.rows, WARPS * R), i(1), i(1)], block: [32 * WARPS, 1, 1], ints: [g.N, g.K] };
  const what = `${k.ops.join(', ')} (N ${g.N}, K ${g.K}) as a narrow matmul, ${R} rows a warp${k.router ? `, then softmax and top-${k.router.k}` : ''}`;
  return { kernel: k.name, comment: kernelComment(k, what), code, launch };
}
