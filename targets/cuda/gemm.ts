// The CUDA target's matrix products in fp32: kernels carrying a `gemm` description (linear, linear_add, gated_linear
// and their grouped forms over experts) become the tiled SIMT matmul of templates.ts instead of one thread per output
// element; the epilogue (bias, activation, gating, residual) is codegen's kernel-IR expression rendered in place.
import Handlebars from 'handlebars';
import { size } from '../../compiler/kernel/expr.ts';
import type { GemmSpec, Kernel } from '../../compiler/kernel/ir.ts';
import { cStyleRenderer } from '../../codegen/c-style.ts';
import { gemmEpilogue, gemmRows, gemmTiles } from '../../codegen/gemm.ts';
import { bufferParam, kernelComment, type CudaFunction } from './render.ts';
import { bf16Spelling, cudaSpelling, type Half } from './spelling.ts';
import { gemmTemplate } from './templates.ts';

const template = Handlebars.compile(gemmTemplate, { noEscape: true, strict: true });
/**
 * Outputs per thread along each axis; the block is 16×16 threads, so a tile is 16·PER wide. PER = 8 is the usual
 * SIMT sgemm register tile (64 accumulators, 128 with the gate's, within the 255 registers a thread of a 256-thread
 * block may have); BK = 8 keeps the gated form's three tiles at 12.4 KiB of shared memory.
 */
const PER = 8;
const TILE = 16 * PER;
const BK = 8;
const THREADS = 256;

/** `bf16`: buffers stored as bf16 that the epilogue may read (never the weights, which this template reads as f32). */
export function renderGemm(k: Kernel, g: GemmSpec, sizes: string[], entry = k.name, bf16: ReadonlySet<string> = new Set(), half: Half = 'bf16'): CudaFunction {
  const r = cStyleRenderer(k, sizes, bf16.size ? bf16Spelling(bf16, half) : cudaSpelling);
  const id = (name: string) => r.bufferId.get(name)!;
  const gated = g.weights.length === 2;
  const rows = gemmRows(g);
  const code = template({
    entry,
    params: k.buffers.map((b) => bufferParam(b, id(b.name), bf16)),
    gated, threads: THREADS, tile: TILE, per: PER, bk: BK,
    x: id(g.x), w: id(g.weights[0]!), wu: gated ? id(g.weights[1]!) : '', out: id(g.out),
    rowStart: r.expr(rows.start), rowCount: r.expr(rows.count), epilogue: r.expr(gemmEpilogue(g, size('#N'))),
  });
  const launch = { grid: gemmTiles(g, TILE), block: [THREADS, 1, 1], ints: [g.N, g.K] };
  return { kernel: k.name, comment: kernelComment(k, `${k.ops.join(', ')} (N ${g.N}, K ${g.K}) as a tiled matmul`), code, launch };
}
