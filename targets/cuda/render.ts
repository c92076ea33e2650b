// Renders a kernel program as CUDA C: one `extern "C" __global__` function per kernel from the handlebars templates
// in templates.ts, all in one source. A loop nest's outer chain of parallel loops becomes the grid (one thread per
// iteration, the flat thread index decoded into the loop variables, threads past the total returning); everything
// inside runs as written in each thread. Kernels with a `gemm` description are the tiled matmul of gemm.ts.
// Kernels whose code is the same (the same op on the same shapes in every layer) share one function, so nvcc and
// NVRTC compile each once: the manifest names the function that runs each kernel.
import Handlebars from 'handlebars';
import { i, mul } from '../../compiler/kernel/expr.ts';
import type { Expr, Kernel, KernelBuffer, KernelProgram } from '../../compiler/kernel/ir.ts';
import { programSizes } from '../../compiler/kernel/sizes.ts';
import { bufferScalar, cStyleRenderer, local } from '../../codegen/c-style.ts';
import { ceilDiv } from '../../codegen/gemm.ts';
import { renderGemm } from './gemm.ts';
import { cudaSpelling, cudaType } from './spelling.ts';
import { kernelTemplate, sourceTemplate } from './templates.ts';

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
}

/** One kernel's function: `code` defines it under the name `entry`; `comment` says what it computes. */
export interface CudaFunction {
  kernel: string;
  comment: string;
  code: string;
  launch: CudaLaunch;
}

/** A kernel of the program: the function in the source that runs it, and how. */
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
  /** The distinct functions the source defines, in order. */
  functions: { entry: string; comment: string; code: string }[];
}

/** A kernel's parameter for one of its buffers: words of its scalar type, const where the kernel only reads it. */
export function bufferParam(b: KernelBuffer, id: string): string {
  const type = cudaType(bufferScalar(b.dtype));
  return b.access === 'read' ? `const ${type}* __restrict__ ${id}` : `${type}* __restrict__ ${id}`;
}

export const kernelComment = (k: Kernel, what = k.ops.join(', ')) => `// ${k.name}${k.loc ? `  (${k.loc})` : ''}: ${what}`;

export function renderKernel(k: Kernel, sizes: string[], entry = k.name): CudaFunction {
  const r = cStyleRenderer(k, sizes, cudaSpelling);
  const { lines, grid } = r.threadBody();
  const code = kernelT({
    entry, block: blockSize,
    params: k.buffers.map((b) => bufferParam(b, r.bufferId.get(b.name)!)),
    // Locals start at zero: the kernel IR sets each before reading it, but not always in a block C can see.
    locals: [...r.locals].map(([name, type]) => ({ id: local(name), type: cudaType(type), zero: cudaSpelling.literal(0, type) })),
    body: lines.join('\n'),
  });
  const total = grid.reduce<Expr>((t, e) => mul(t, e), i(1));
  return { kernel: k.name, comment: kernelComment(k), code, launch: { grid: [grid.length ? ceilDiv(total, blockSize) : i(1), i(1), i(1)], block: [blockSize, 1, 1] } };
}

/** The placeholder a function is rendered under until the program knows its name. */
const ENTRY = 'moec_entry_';

export function renderProgram(p: KernelProgram, options: { tiled?: boolean } = {}): CudaProgram {
  const sizes = programSizes(p);
  const rendered = p.kernels.map((k) => (k.gemm && options.tiled !== false ? renderGemm(k, k.gemm, sizes, ENTRY) : renderKernel(k, sizes, ENTRY)));
  // The first kernel with a given code names the function; the others launch it too.
  const byCode = new Map<string, { entry: string; f: CudaFunction; uses: number }>();
  const kernels = rendered.map((f): CudaKernel => {
    const same = byCode.get(f.code) ?? { entry: f.kernel, f, uses: 0 };
    same.uses++;
    byCode.set(f.code, same);
    return { name: f.kernel, entry: same.entry, launch: f.launch };
  });
  const functions = [...byCode.values()].map(({ entry, f, uses }) => ({
    entry,
    comment: uses > 1 ? `${f.comment}; the same code runs ${uses - 1} more kernel${uses > 2 ? 's' : ''}` : f.comment,
    code: f.code.replace(ENTRY, entry),
  }));
  return { source: cudaSource(p.name, p.kernels.length, functions, sizes), kernels, sizes, functions };
}

/** A source file of functions (rendered for a program with these run-time sizes) and what they share. */
export function cudaSource(model: string, kernels: number, functions: { comment: string; code: string }[], sizes: string[]): string {
  return sourceT({ model, kernels, functionCount: functions.length, functions, sizes, count: Math.max(1, sizes.length) });
}
