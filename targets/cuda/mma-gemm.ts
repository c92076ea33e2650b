// The CUDA target's matrix products in bf16 mode: every kernel carrying a `gemm` description becomes the tensor-core
// matmul of mma-templates.ts, in two tile shapes, each launched only at the sizes it suits (a launch's `when`):
// tall 128-row tiles for products with many rows per expert, and short 32-row ones where experts average few (a
// decode step, or 16 tokens over 8 experts: a 128-row tile would multiply mostly zeros and read its weights anyway).
import Handlebars from 'handlebars';
import { add, bin, i, size, sub } from '../../compiler/kernel/expr.ts';
import type { Expr, GemmSpec, Kernel } from '../../compiler/kernel/ir.ts';
import { cStyleRenderer } from '../../codegen/c-style.ts';
import { ceilDiv, gemmEpilogue, gemmRows } from '../../codegen/gemm.ts';
import { bufferParam, kernelComment, type CudaFunction } from './render.ts';
import { bf16Spelling } from './spelling.ts';
import { mmaGemmTemplate } from './mma-templates.ts';

const template = Handlebars.compile(mmaGemmTemplate, { noEscape: true, strict: true });

/**
 * A block's tile: BM × BN outputs (BN weight rows), warpsM × warpsN warps, a STAGES-deep shared-memory ring (each
 * stage (BM + BN) · 64 bytes, within the 48 KiB of static shared memory), the blocks an SM should hold at once
 * (__launch_bounds__' second argument: it caps the registers a thread may use), and the grid axis x walks: 'columns'
 * (blocks running together share x's tile) or 'rows' (an expert's few row tiles read the same weight tile together).
 */
export interface MmaTile {
  bm: number;
  bn: number;
  warpsM: number;
  warpsN: number;
  stages: number;
  minBlocks: number;
  walk: 'columns' | 'rows';
}

/**
 * Tall tiles: CUTLASS's 128×128×32 with 8 warps of 64×32 (16 m16n8k16 products per k16 step, 64 accumulators a
 * thread), 3 stages: 3 × 16 KiB of shared memory, the static limit of 48 KiB. Two blocks an SM: 128 registers a
 * thread, which ptxas meets without spilling (the gated form wanted 156 unbounded, one block an SM).
 */
export const tallTile: MmaTile = { bm: 128, bn: 128, warpsM: 2, warpsN: 4, stages: 3, minBlocks: 2, walk: 'columns' };
/**
 * The same block tile with 4 warps of 64×64 (CUTLASS's usual warp tile): a third less shared-memory traffic per
 * product (8 ldmatrix.x4 per 32 mma instead of 6 per 16), 236-246 registers a thread (no spills), 8 warps an SM
 * instead of 16. Which is faster on a given GPU is for a benchmark to say: RenderOptions.tiles picks it.
 */
export const wideWarpTile: MmaTile = { bm: 128, bn: 128, warpsM: 2, warpsN: 2, stages: 3, minBlocks: 2, walk: 'columns' };
/**
 * Short tiles for few rows per expert, where the product is bound by reading the weights: 32 rows, 4 warps of
 * 32×32, 4 stages (40 KiB) so that each block keeps three weight tiles in flight, and small blocks, several to an SM.
 */
export const shortTile: MmaTile = { bm: 32, bn: 128, warpsM: 1, warpsN: 4, stages: 4, minBlocks: 4, walk: 'rows' };
/** Below this many rows per expert on average the short tiles run: a tall tile would be more than half zeros. */
export const shortBelow = 64;

/** Outputs along N a block computes: BN, or half of it for a gated product (its weight rows interleave gate and up). */
export const outputColumns = (g: GemmSpec, t: MmaTile) => (g.weights.length === 2 ? t.bn / 2 : t.bn);

/**
 * Blocks of a tile shape: output column blocks × row tiles (packed over the experts: at most one partial tile per
 * expert more than the rows need), x the axis the tile walks first.
 */
export function mmaGrid(g: GemmSpec, t: MmaTile): Expr[] {
  const columns = i(Math.ceil(g.N / outputColumns(g, t)));
  const rowTiles = g.offsets ? add(ceilDiv(g.rows, t.bm), i(g.experts ?? 1)) : ceilDiv(g.rows, t.bm);
  return t.walk === 'rows' ? [rowTiles, columns, i(1)] : [columns, rowTiles, i(1)];
}

/** The two tile shapes a gemm kernel is rendered in (RenderOptions.tiles overrides either, for tuning). */
export interface MmaTiles {
  tall: MmaTile;
  short: MmaTile;
}

/** Non-zero where the short tiles run: rows < shortBelow · experts (1 for a product that is not grouped). */
export const fewRows = (g: GemmSpec): Expr => bin('<', g.rows, i(shortBelow * (g.offsets ? (g.experts ?? 1) : 1)));

/** Static shared memory a block may declare (the runtime launches without dynamic shared memory). */
const sharedLimit = 48 * 1024;

function checkTile(t: MmaTile): void {
  const threads = 32 * t.warpsM * t.warpsN;
  const ok = t.bm % (16 * t.warpsM) === 0 && t.bn % (16 * t.warpsN) === 0 && (t.bm * 4) % threads === 0 && (t.bn * 4) % threads === 0 && t.stages >= 2;
  if (!ok) throw new Error(`tile ${JSON.stringify(t)}: warp tiles must be whole m16 × n16 tiles and the chunks spread evenly over the threads`);
  if (t.stages * (t.bm + t.bn) * 64 > sharedLimit) throw new Error(`tile ${JSON.stringify(t)}: ${t.stages} stages of ${t.bm + t.bn} rows of 64 bytes pass the 48 KiB of static shared memory`);
}

/** One tile shape of a gemm kernel as a function under `entry`, launched where `when` holds (`variant`: its name). */
export function renderMmaGemm(k: Kernel, g: GemmSpec, sizes: string[], bf16: ReadonlySet<string>, t: MmaTile, when: Expr, variant?: string, entry = k.name): CudaFunction {
  checkTile(t);
  for (const w of g.weights) if (!bf16.has(w)) throw new Error(`kernel ${k.name}: the tensor-core matmul reads its weights as bf16, and ${w} is not stored so`);
  const r = cStyleRenderer(k, sizes, bf16Spelling(bf16));
  const id = (name: string) => r.bufferId.get(name)!;
  const gated = g.weights.length === 2;
  const rows = gemmRows(g);
  const threads = 32 * t.warpsM * t.warpsN;
  const wnt = t.bn / t.warpsN;
  const code = template({
    entry, threads, minBlocks: t.minBlocks,
    params: k.buffers.map((b) => bufferParam(b, id(b.name), bf16)),
    bm: t.bm, bn: t.bn, stages: t.stages, wn: t.warpsN, wmt: t.bm / t.warpsM, wnt, halfWnt: wnt / 2,
    mi: t.bm / t.warpsM / 16, ni: wnt / 8, aChunks: (t.bm * 4) / threads, bChunks: (t.bn * 4) / threads,
    gated, experts: g.offsets ? (g.experts ?? 1) : 0,
    outCols: outputColumns(g, t), outTiles: gated ? wnt / 16 : wnt / 8, outWnt: gated ? wnt / 2 : wnt,
    tileAxis: t.walk === 'rows' ? 'x' : 'y', columnAxis: t.walk === 'rows' ? 'y' : 'x',
    x: id(g.x), w: id(g.weights[0]!), wu: gated ? id(g.weights[1]!) : '', out: id(g.out),
    rowStart: r.expr(rows.start), rowCount: r.expr(rows.count), epilogue: r.expr(gemmEpilogue(g, size('#N'))),
  });
  const what = `${k.ops.join(', ')} (N ${g.N}, K ${g.K}) on tensor cores, bf16 weights, ${t.bm}×${outputColumns(g, t)} tiles${variant ? ` (${variant})` : ''}`;
  return { kernel: k.name, ...(variant ? { variant } : {}), comment: kernelComment(k, what), code, launch: { grid: mmaGrid(g, t), block: [threads, 1, 1], ints: [g.N, g.K], when } };
}

/** Both tile shapes of a gemm kernel: exactly one of the two runs at any sizes. */
export function renderMmaGemms(k: Kernel, g: GemmSpec, sizes: string[], bf16: ReadonlySet<string>, tiles: MmaTiles = { tall: tallTile, short: shortTile }, entry = k.name): CudaFunction[] {
  const few = fewRows(g);
  return [renderMmaGemm(k, g, sizes, bf16, tiles.tall, sub(i(1), few), undefined, entry), renderMmaGemm(k, g, sizes, bf16, tiles.short, few, 'short', entry)];
}
