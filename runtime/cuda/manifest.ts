// The manifest of a model compiled for CUDA (manifest.json beside model.cu): the kernel program, its memory plan,
// and for each kernel the function of model.cu that runs it and how to launch it, so a runtime needs no compiler.
import type { Expr } from '../../compiler/kernel/ir.ts';
import type { Manifest as WasmManifest } from '../wasm/manifest.ts';

/**
 * A kernel's launch: `entry` in the source, `grid` blocks along x, y, z (expressions of the run-time sizes, evaluated
 * like loop extents; a 0 means there is nothing to launch), `block` threads along x, y, z. The function's arguments
 * are the kernel's buffers in its order (device pointers), the sizes (an int per name of `sizes`, by value), then
 * `ints` if any. A kernel with variants (bf16 matmuls: tall and short tiles) has a launch for each, and `when`, an
 * expression of the sizes like the grid's, picks the one that runs (non-zero).
 */
export interface KernelLaunch {
  kernel: string;
  entry: string;
  grid: Expr[];
  block: number[];
  ints?: number[];
  when?: Expr;
  /** Bytes of dynamic shared memory a block takes (the tensor-core matmuls). */
  shared?: number;
}

export interface CudaManifest extends Omit<WasmManifest, 'binaries' | 'target'> {
  target: 'cuda';
  /** The CUDA C file beside the manifest, with every kernel's function. */
  source: string;
  /**
   * What the kernels compute in: 'f32' stores and computes everything in fp32 (the exact-check mode); 'bf16' stores
   * the parameters in `bf16` (every matmul's weights but a router's) as bf16 and multiplies them on tensor cores.
   */
  precision: 'f32' | 'bf16' | 'f16';
  /**
   * The buffers stored as bf16: parameters, which the runtime converts (round to nearest even) and uploads 2 bytes an
   * element, and activations their kernels write so.
   */
  bf16?: string[];
  /** The GPUs model.cu was rendered for: 'sm_80' (any from the A100 on) or 'sm_90a' (compute capability 9.0 only). */
  arch?: 'sm_80' | 'sm_90a';
  /** One per kernel of the program (more for a kernel with variants), in launch order. */
  launches: KernelLaunch[];
}
