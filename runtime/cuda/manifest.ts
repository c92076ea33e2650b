// The manifest of a model compiled for CUDA (manifest.json beside model.cu): the kernel program, its memory plan,
// and for each kernel the function of model.cu that runs it and how to launch it, so a runtime needs no compiler.
import type { Expr } from '../../compiler/kernel/ir.ts';
import type { Manifest as WasmManifest } from '../wasm/manifest.ts';

/**
 * A kernel's launch: `entry` in the source, `grid` blocks along x, y, z (expressions of the run-time sizes, evaluated
 * like loop extents; a 0 means there is nothing to launch), `block` threads along x, y, z. The function's arguments
 * are the kernel's buffers in its order (device pointers), the sizes (an int per name of `sizes`, by value), then
 * `ints` if any.
 */
export interface KernelLaunch {
  kernel: string;
  entry: string;
  grid: Expr[];
  block: number[];
  ints?: number[];
}

export interface CudaManifest extends Omit<WasmManifest, 'binaries' | 'target'> {
  target: 'cuda';
  /** The CUDA C file beside the manifest, with every kernel's function. */
  source: string;
  /** What the kernels compute in: 'f32' stores and computes everything in fp32 (the exact-check mode). */
  precision: 'f32';
  /** One per kernel of the program, in launch order. */
  launches: KernelLaunch[];
}
