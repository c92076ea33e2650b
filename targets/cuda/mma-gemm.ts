// The CUDA target's matrix products in bf16 (or f16) mode: every kernel carrying a `gemm` description becomes the
// tensor-core matmul of mma-templates.ts, in two tile shapes, each launched only at the sizes it suits (a `when`):
// tall 128-row tiles for products with many rows per expert (mma.sync, or wgmma on sm_90a), and short 32-row ones
// where experts average few (a decode step, or 16 tokens over 8 experts: a 128-row tile would multiply mostly zeros
// and read its weights anyway).
import Handlebars from 'handlebars';
import { add, bin, i, mul, size, sub } from '../../compiler/kernel/expr.ts';
import type { Expr, GemmSpec, Kernel } from '../../compiler/kernel/ir.ts';
import { cStyleRenderer } from '../../codegen/c-style.ts';
import { ceilDiv, gemmEpilogue, gemmRows } from '../../codegen/gemm.ts';
import { bufferParam, kernelComment, type CudaArch, type CudaFunction } from './render.ts';
import { bf16Spelling, type Half } from './spelling.ts';
import { mmaGemmTemplate } from './mma-templates.ts';

const template = Handlebars.compile(mmaGemmTemplate, { noEscape: true, strict: true });

/**
 * A block's tile: BM × BN outputs (BN weight rows), multiplied by warpsM × warpsN warps with mma.sync, or by BM / 64
 * warpgroups with wgmma (sm_90a only); a STAGES-deep ring of 64-wide k tiles in dynamic shared memory ((BM + BN) ·
 * 128 bytes a stage), the blocks an SM should hold at once (__launch_bounds__' second argument: it caps the
 * registers a thread may use), and the raster: blocks take RASTER row tiles at a time (0: all of them), walking
 * those row tiles first and then the columns.
 */
export interface MmaTile {
  bm: number;
  bn: number;
  warpsM: number;
  warpsN: number;
  stages: number;
  minBlocks: number;
  raster: number;
  wgmma?: boolean;
  /** wgmma: product groups left running while the next step's copies are issued (1 unless given; 0 waits for each). */
  inFlight?: number;
}

/**
 * Tall tiles for sm_80 and later: CUTLASS's 128×256×64 with 8 warps of 64×64 (32 m16n8k16 products per 8 ldmatrix.x4
 * a k16 step, 128 accumulators a thread), 3 stages (144 KiB, which an A100 allows too), one block an SM. Row tiles
 * in groups of 8: the ~132 blocks running together cover 8 row tiles and 16 column blocks, so a weight tile is read
 * from memory once per 8 row tiles instead of once per row tile.
 */
export const tallTile: MmaTile = { bm: 128, bn: 256, warpsM: 2, warpsN: 4, stages: 3, minBlocks: 1, raster: 8 };
/**
 * Tall tiles on sm_90a: the same 128×256×64 block tile, two warpgroups of 64×256 each one wgmma m64n256k16 a k16 step,
 * 4 stages (193 KiB): copies run two steps ahead while one group of products is in flight.
 */
export const hopperTile: MmaTile = { bm: 128, bn: 256, warpsM: 2, warpsN: 4, stages: 4, minBlocks: 1, raster: 8, wgmma: true };
/**
 * Short tiles for few rows per expert, where the product is bound by reading the weights: 32 rows, 4 warps of
 * 32×32, 4 stages (81 KiB) so that each block keeps three weight tiles in flight, two blocks an SM, and the blocks of
 * one column block's row tiles (an expert's few) next to each other, reading the same weight tile together.
 */
export const shortTile: MmaTile = { bm: 32, bn: 128, warpsM: 1, warpsN: 4, stages: 4, minBlocks: 2, raster: 0 };
/** Below this many rows per expert on average the short tiles run: a tall tile would be more than half zeros. */
export const shortBelow = 64;

/** Outputs along N a block computes: BN, or half of it for a gated product (its weight rows interleave gate and up). */
export const outputColumns = (g: GemmSpec, t: MmaTile) => (g.weights.length === 2 ? t.bn / 2 : t.bn);

/** wgmma groups in flight after each step. */
const inFlight = (t: MmaTile) => (t.wgmma ? (t.inFlight ?? 1) : 0);
/** Copies run this many steps ahead of the product: all but one stage, less the stages products in flight read. */
const ahead = (t: MmaTile) => t.stages - 1 - inFlight(t);

/** Dynamic shared memory a block of this tile takes: the stages, and 1 KiB to align them to 1024 bytes. */
export const sharedBytes = (t: MmaTile) => t.stages * (t.bm + t.bn) * 128 + 1024;

/**
 * Blocks of a tile shape, one axis: output column blocks × row tiles (packed over the experts: at most one partial
 * tile per expert more than the rows need); the kernel finds its own from the block index and the raster.
 */
export function mmaGrid(g: GemmSpec, t: MmaTile): Expr[] {
  const columns = i(Math.ceil(g.N / outputColumns(g, t)));
  const rowTiles = g.offsets ? add(ceilDiv(g.rows, t.bm), i(g.experts ?? 1)) : ceilDiv(g.rows, t.bm);
  return [mul(columns, rowTiles), i(1), i(1)];
}

/** The two tile shapes a gemm kernel is rendered in (RenderOptions.tiles overrides either, for tuning). */
export interface MmaTiles {
  tall: MmaTile;
  short: MmaTile;
}

/** The tiles for an architecture: wgmma's tall tile on sm_90a, mma.sync's elsewhere. */
export const archTiles = (arch: CudaArch): MmaTiles => ({ tall: arch === 'sm_90a' ? hopperTile : tallTile, short: shortTile });

/** Non-zero where the short tiles run: rows < shortBelow · experts (1 for a product that is not grouped). */
export const fewRows = (g: GemmSpec): Expr => bin('<', g.rows, i(shortBelow * (g.offsets ? (g.experts ?? 1) : 1)));

/** The most dynamic shared memory a block may ask for: an H100's 227 KiB (an A100 allows 163, which the runtime checks). */
export const sharedLimit = 227 * 1024;

function checkTile(t: MmaTile, arch: CudaArch): void {
  const threads = tileThreads(t);
  const what = `tile ${JSON.stringify(t)}`;
  if (t.wgmma) {
    if (arch !== 'sm_90a') throw new Error(`${what}: wgmma needs sm_90a, and the program is rendered for ${arch}`);
    if (t.bm % 64 !== 0 || t.bn % 16 !== 0 || t.bn > 256) throw new Error(`${what}: wgmma tiles are 64-row warpgroup tiles by 16 … 256 weight rows in steps of 16`);
  } else if (t.bm % (16 * t.warpsM) !== 0 || t.bn % (16 * t.warpsN) !== 0) throw new Error(`${what}: warp tiles must be whole m16 × n16 tiles`);
  if ((t.bm * 8) % threads !== 0 || (t.bn * 8) % threads !== 0) throw new Error(`${what}: the tiles' 16-byte chunks must spread evenly over the ${threads} threads`);
  if (ahead(t) < 1) throw new Error(`${what}: too few stages for the copies to run ahead`);
  if (sharedBytes(t) > sharedLimit) throw new Error(`${what}: ${t.stages} stages of ${t.bm + t.bn} rows of 128 bytes take ${sharedBytes(t)} bytes of shared memory, past the ${sharedLimit} a block may have`);
}

const tileThreads = (t: MmaTile) => (t.wgmma ? 128 * (t.bm / 64) : 32 * t.warpsM * t.warpsN);

/** One tile shape of a gemm kernel as a function under `entry`, launched where `when` holds (`variant`: its name).
 * `bf16` holds the weights and the activations stored as bf16 words (x read so, out written so). */
export function renderMmaGemm(k: Kernel, g: GemmSpec, sizes: string[], bf16: ReadonlySet<string>, t: MmaTile, when: Expr, arch: CudaArch, half: Half = 'bf16', variant?: string, entry = k.name): CudaFunction {
  checkTile(t, arch);
  for (const w of g.weights) if (!bf16.has(w)) throw new Error(`kernel ${k.name}: the tensor-core matmul reads its weights as bf16, and ${w} is not stored so`);
  const r = cStyleRenderer(k, sizes, bf16Spelling(bf16, half));
  const id = (name: string) => r.bufferId.get(name)!;
  const gated = g.weights.length === 2;
  const rows = gemmRows(g);
  const threads = tileThreads(t);
  const wnt = t.bn / t.warpsN;
  const code = template({
    entry, threads, minBlocks: t.minBlocks,
    params: k.buffers.map((b) => bufferParam(b, id(b.name), bf16)),
    half, bm: t.bm, bn: t.bn, stages: t.stages, ahead: ahead(t), inFlight: inFlight(t), raster: t.raster, wgmma: !!t.wgmma,
    group: t.wgmma ? t.bn : wnt,
    wn: t.warpsN, wmt: t.bm / t.warpsM, wnt, mi: t.bm / t.warpsM / 16, ni: wnt / 8,
    aChunks: (t.bm * 8) / threads, bChunks: (t.bn * 8) / threads,
    gated, experts: g.offsets ? (g.experts ?? 1) : 0, xBf16: bf16.has(g.x), outBf16: bf16.has(g.out),
    outCols: outputColumns(g, t),
    outTiles: t.wgmma ? (gated ? t.bn / 16 : t.bn / 8) : gated ? wnt / 16 : wnt / 8, outWnt: gated ? wnt / 2 : wnt,
    x: id(g.x), w: id(g.weights[0]!), wu: gated ? id(g.weights[1]!) : '', out: id(g.out),
    rowStart: r.expr(rows.start), rowCount: r.expr(rows.count), epilogue: r.expr(gemmEpilogue(g, size('#N'))),
  });
  const what = `${k.ops.join(', ')} (N ${g.N}, K ${g.K}) on tensor cores (${t.wgmma ? 'wgmma' : 'mma.sync'}), ${half} weights${bf16.has(g.x) ? ' and x' : ''}, ${t.bm}×${outputColumns(g, t)} tiles${variant ? ` (${variant})` : ''}`;
  return {
    kernel: k.name, ...(variant ? { variant } : {}), comment: kernelComment(k, what), code,
    launch: { grid: mmaGrid(g, t), block: [threads, 1, 1], ints: [g.N, g.K], when, shared: sharedBytes(t) },
  };
}

/** Both tile shapes of a gemm kernel: exactly one of the two runs at any sizes. */
export function renderMmaGemms(k: Kernel, g: GemmSpec, sizes: string[], bf16: ReadonlySet<string>, tiles: MmaTiles, arch: CudaArch, half: Half = 'bf16', entry = k.name): CudaFunction[] {
  const few = fewRows(g);
  return [renderMmaGemm(k, g, sizes, bf16, tiles.tall, sub(i(1), few), arch, half, undefined, entry), renderMmaGemm(k, g, sizes, bf16, tiles.short, few, arch, half, 'short', entry)];
}
