// Which temporaries a bf16 program stores as bf16: those only tensor-core matmuls read, as their x. The matmul would
// round x to bf16 as it reads it anyway, so the writer rounding it instead computes the same numbers, halves the
// bytes, and lets x go from global to shared memory by cp.async like the weights, without a pass through registers
// (MoE layers: the dispatched token rows, and the gated product the down projection reads).
import type { Kernel, KernelProgram } from '../../compiler/kernel/ir.ts';
import { sharingStorage } from '../../compiler/kernel/views.ts';

/**
 * Temporaries whose every reader is a matmul in `onTensorCores` reading it as x (and nothing else of it), whose
 * writers are all kernels rendered through the C-like renderer or tensor-core matmuls (`roundsOnWrite`), and which
 * share no storage with another buffer.
 */
export function bf16Activations(p: KernelProgram, onTensorCores: (k: Kernel) => boolean, roundsOnWrite: (k: Kernel) => boolean): Set<string> {
  const aliased = sharingStorage(p);
  const out = new Set<string>();
  for (const b of p.buffers) {
    if (b.kind !== 'temp' || b.dtype !== 'f32' || aliased.has(b.name)) continue;
    const users = p.kernels.filter((k) => k.buffers.some((x) => x.name === b.name));
    // Rows an expert-parallel exchange moves keep one width on both ends: f32.
    if (users.some((k) => k.collective)) continue;
    const readers = users.filter((k) => k.buffers.some((x) => x.name === b.name && x.access !== 'write'));
    const writers = users.filter((k) => k.buffers.some((x) => x.name === b.name && x.access !== 'read'));
    const asX = (k: Kernel) => {
      const g = k.gemm;
      return !!g && onTensorCores(k) && g.x === b.name && ![g.out, g.bias, g.residual, g.offsets, ...g.weights].includes(b.name);
    };
    if (readers.length > 0 && readers.every(asX) && writers.length > 0 && writers.every(roundsOnWrite)) out.add(b.name);
  }
  return out;
}
