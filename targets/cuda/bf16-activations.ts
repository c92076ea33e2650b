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
  // Expert parallelism's dispatch moves rows as bytes: the rows it sends and the rows it receives are bf16 together,
  // when the received rows are only a tensor-core matmul's x and the sent ones only the exchange's.
  for (const k of p.kernels.filter((x) => x.collective?.op === 'all_to_all_dispatch')) {
    const [rows, , recv] = k.buffers.map((b) => b.name);
    const only = (name: string, test: (k: Kernel, access: string) => boolean) => p.kernels.every((u) => u.buffers.every((x) => x.name !== name || test(u, x.access)));
    const recvAsX = only(recv!, (u, access) => u === k || (access === 'read' && !!u.gemm && onTensorCores(u) && u.gemm.x === recv));
    const rowsSent = only(rows!, (u, access) => (u === k ? access === 'read' : access === 'write' && roundsOnWrite(u)));
    if (recvAsX && rowsSent && !aliased.has(rows!) && !aliased.has(recv!)) out.add(rows!).add(recv!);
  }
  return out;
}
