// Renders a kernel program as CUDA C: one `extern "C" __global__` function per kernel from the handlebars templates
// in templates.ts, all in one source. A loop nest's outer chain of parallel loops becomes the grid (one thread per
// iteration, the flat thread index decoded into the loop variables, threads past the total returning); everything
// inside runs as written in each thread. Kernels with a `gemm` description are the tiled matmul of gemm.ts (fp32;
// narrow-gemm.ts where a row has few outputs: routers), or in bf16 mode the tensor-core matmul of mma-gemm.ts in two
// tile shapes, each launched at the sizes it suits.
// Kernels whose code is the same (the same op on the same shapes in every layer) share one function, so nvcc and
// NVRTC compile each once: the manifest names the function that runs each kernel.
import Handlebars from 'handlebars';
import { i, mul } from '../../compiler/kernel/expr.ts';
import type { Expr, Kernel, KernelBuffer, KernelProgram } from '../../compiler/kernel/ir.ts';
import { programSizes } from '../../compiler/kernel/sizes.ts';
import { bufferScalar, cStyleRenderer, local } from '../../codegen/c-style.ts';
import { ceilDiv } from '../../codegen/gemm.ts';
import { halfWeightBuffers } from '../../codegen/half-weights.ts';
import { fusable, renderAttention } from './attention.ts';
import { renderGemm } from './gemm.ts';
import { isNarrow, renderNarrowGemm } from './narrow-gemm.ts';
import { bf16Activations } from './bf16-activations.ts';
import { archTiles, renderMmaGemms, type MmaTiles } from './mma-gemm.ts';
import { bf16Helpers, ptxHelpers } from './mma-templates.ts';
import { wgmmaHelpers, wgmmaProducts, type WgmmaProduct } from './wgmma.ts';
import { bf16Spelling, cudaSpelling, cudaType, type Half } from './spelling.ts';
import { kernelTemplate, sourceTemplate } from './templates.ts';

const noBf16: ReadonlySet<string> = new Set();

/** Threads per block of a loop-nest kernel. */
export const blockSize = 256;

const kernelT = Handlebars.compile(kernelTemplate, { noEscape: true, strict: true });
const sourceT = Handlebars.compile(sourceTemplate, { noEscape: true, strict: true });

export interface CudaLaunch {
  /** Blocks along x, y, z as expressions of the run-time sizes (codegen/grid.ts evalExtent); none is launched when one is 0. */
  grid: Expr[];
  /** Threads per block along x, y, z. */
  block: number[];
  /** Int arguments the function takes after the sizes (a matmul's N and K). */
  ints?: number[];
  /** Launched only where this evaluates (codegen/grid.ts evalExtent) to non-zero: one of a kernel's variants. */
  when?: Expr;
  /** Bytes of dynamic shared memory a block takes (the tensor-core matmuls). */
  shared?: number;
}

/**
 * 'f32': f32 storage and arithmetic throughout (the exact-check mode). 'bf16': every matmul's weights but a router's
 * stored as bf16 and multiplied on tensor cores with f32 accumulation, and the activations only those matmuls read;
 * everything else in f32. 'f16': the same in IEEE half precision (3 more bits of mantissa, a range to 65504).
 */
export type Precision = 'f32' | Half;
export const precisions: readonly Precision[] = ['f32', 'bf16', 'f16'];

/**
 * The GPUs a program is rendered for: 'sm_80' runs on every GPU from the A100 on (mma.sync); 'sm_90a' only on the
 * H100/H200 (compute capability 9.0 exactly), whose bf16 matmuls use wgmma.
 */
export type CudaArch = 'sm_80' | 'sm_90a';
export const archs: readonly CudaArch[] = ['sm_80', 'sm_90a'];
/** The architecture to render for a GPU of this compute capability. */
export const archOf = (capability: readonly number[]): CudaArch => (capability[0] === 9 && capability[1] === 0 ? 'sm_90a' : 'sm_80');

/** One kernel's function: `code` defines it under the name `entry`; `comment` says what it computes. */
export interface CudaFunction {
  kernel: string;
  /** Which of the kernel's functions, when it has several (named `<kernel>_<variant>`). */
  variant?: string;
  comment: string;
  code: string;
  launch: CudaLaunch;
}

/** A launch of the program: the kernel, the function in the source that runs it, and how (a kernel with variants
 * has a launch for each, in order, and its `when` picks the one that runs). */
export interface CudaKernel {
  name: string;
  entry: string;
  launch: CudaLaunch;
}

export interface CudaProgram {
  /** The CUDA C source of every kernel: cudaSource of the functions. */
  source: string;
  kernels: CudaKernel[];
  sizes: string[];
  precision: Precision;
  arch: CudaArch;
  /** Buffers stored as 16-bit words (bf16, or f16 in f16 precision): parameters (uploaded converted, 2 bytes an
   * element) and the activations only matmuls read (written so by their kernels); none in f32. */
  bf16: string[];
  /** The distinct functions the source defines, in order. */
  functions: { entry: string; comment: string; code: string }[];
}

/** A kernel's parameter for one of its buffers: words of its scalar type (bf16 ones raw 16-bit words), const where
 * the kernel only reads it. */
export function bufferParam(b: KernelBuffer, id: string, bf16: ReadonlySet<string> = noBf16): string {
  const type = bf16.has(b.name) ? 'unsigned short' : cudaType(bufferScalar(b.dtype));
  return b.access === 'read' ? `const ${type}* __restrict__ ${id}` : `${type}* __restrict__ ${id}`;
}

export const kernelComment = (k: Kernel, what = k.ops.join(', ')) => `// ${k.name}${k.loc ? `  (${k.loc})` : ''}: ${what}`;

export function renderKernel(k: Kernel, sizes: string[], entry = k.name, bf16: ReadonlySet<string> = noBf16, half: Half = 'bf16'): CudaFunction {
  const r = cStyleRenderer(k, sizes, bf16.size ? bf16Spelling(bf16, half) : cudaSpelling);
  const { lines, grid } = r.threadBody();
  const code = kernelT({
    entry, block: blockSize,
    params: k.buffers.map((b) => bufferParam(b, r.bufferId.get(b.name)!, bf16)),
    // Locals start at zero: the kernel IR sets each before reading it, but not always in a block C can see.
    locals: [...r.locals].map(([name, type]) => ({ id: local(name), type: cudaType(type), zero: cudaSpelling.literal(0, type) })),
    body: lines.join('\n'),
  });
  const total = grid.reduce<Expr>((t, e) => mul(t, e), i(1));
  return { kernel: k.name, comment: kernelComment(k), code, launch: { grid: [grid.length ? ceilDiv(total, blockSize) : i(1), i(1), i(1)], block: [blockSize, 1, 1] } };
}

/** The placeholder a function is rendered under until the program knows its name. */
const ENTRY = 'moec_entry_';

export interface RenderOptions {
  /** The tiled matmul for gemm kernels (default), or their loop nests. */
  tiled?: boolean;
  precision?: Precision;
  /** bf16: the tensor-core matmul's tile shapes (mma-gemm.ts archTiles unless given), for tuning. */
  tiles?: Partial<MmaTiles>;
  /** The GPUs to render for (sm_80 unless given). */
  arch?: CudaArch;
}

export function renderProgram(p: KernelProgram, options: RenderOptions = {}): CudaProgram {
  const sizes = programSizes(p);
  const precision = options.precision ?? 'f32';
  const arch = options.arch ?? 'sm_80';
  const half: Half = precision === 'f16' ? 'f16' : 'bf16';
  const weights = precision !== 'f32' ? halfWeightBuffers(p) : noBf16;
  const tiles = { ...archTiles(arch), ...options.tiles };
  const attention = (k: Kernel) => !!k.attention && fusable(k.attention);
  const onTensorCores = (k: Kernel) => options.tiled !== false && !attention(k) && !!k.gemm && k.gemm.weights.every((w) => weights.has(w));
  const loopNest = (k: Kernel) => !attention(k) && (!k.gemm || options.tiled === false);
  const bf16 = precision !== 'f32' && options.tiled !== false ? new Set([...weights, ...bf16Activations(p, onTensorCores, (k) => loopNest(k) || onTensorCores(k))]) : weights;
  const render = (k: Kernel): CudaFunction[] => {
    // Expert parallelism's exchanges are NCCL calls the runtime makes (runtime/cuda/ranks.ts), not functions.
    if (k.collective) return [];
    // Attention reads and writes f32 activations in every precision.
    if (attention(k)) return [renderAttention(k, k.attention!, sizes, ENTRY)];
    if (loopNest(k)) return [renderKernel(k, sizes, ENTRY, bf16, half)];
    if (onTensorCores(k)) return renderMmaGemms(k, k.gemm!, sizes, bf16, tiles, arch, half, ENTRY);
    // A router's product keeps its f32 weights, so it stays on the f32 tiled matmul (which reads them as floats; a
    // product of f32 and bf16 weights, which no model has, would fall to its loop nest).
    const g = k.gemm!;
    if (g.weights.some((w) => bf16.has(w))) return [renderKernel(k, sizes, ENTRY, bf16, half)];
    return [isNarrow(g) ? renderNarrowGemm(k, g, sizes, ENTRY, bf16, half) : renderGemm(k, g, sizes, ENTRY, bf16, half)];
  };
  // The first kernel with a given code names the function; the others launch it too.
  const byCode = new Map<string, { entry: string; f: CudaFunction; uses: number }>();
  const kernels = p.kernels.flatMap(render).map((f): CudaKernel => {
    const same = byCode.get(f.code) ?? { entry: f.variant ? `${f.kernel}_${f.variant}` : f.kernel, f, uses: 0 };
    same.uses++;
    byCode.set(f.code, same);
    return { name: f.kernel, entry: same.entry, launch: f.launch };
  });
  const functions = [...byCode.values()].map(({ entry, f, uses }) => ({
    entry,
    comment: uses > 1 ? `${f.comment}; the same code runs ${uses - 1} more kernel${uses > 2 ? 's' : ''}` : f.comment,
    code: f.code.replace(ENTRY, entry),
  }));
  const wgmma = wgmmaProducts(functions.map((f) => f.code).join('\n'));
  return { source: cudaSource(p.name, p.kernels.length, functions, sizes, precision, wgmma), kernels, sizes, functions, precision, arch, bf16: [...bf16] };
}

/**
 * What a runtime needs of a rendered program (runtime/cuda's CudaCompiled, the manifest's fields): the source, the
 * launches in order with the function each runs, and which parameters are stored as bf16.
 */
export function cudaCompiled(c: CudaProgram) {
  return { source: c.source, sizes: c.sizes, launches: c.kernels.map((k) => ({ kernel: k.name, entry: k.entry, ...k.launch })), precision: c.precision, arch: c.arch, bf16: c.bf16 };
}

/** A source file of functions (rendered for a program with these run-time sizes) and what they share; `wgmma`: the
 * sm_90a products the functions use (wgmmaProducts). */
export function cudaSource(model: string, kernels: number, functions: { comment: string; code: string }[], sizes: string[], precision: Precision = 'f32', wgmma: WgmmaProduct[] = []): string {
  return sourceT({
    model, kernels, functionCount: functions.length, functions, sizes, count: Math.max(1, sizes.length),
    bf16: precision !== 'f32', half: precision, bf16Helpers, ptxHelpers, wgmma: wgmmaHelpers(wgmma),
  });
}
