// Which parameters a target may store in 16 bits (f16 on WebGPU, bf16 on CUDA): the matrices of the matrix
// products, where the bytes are, but not a router's, whose few weights decide which experts run (Switch
// Transformer's selective precision: the router stays f32 so that rounding cannot change the experts chosen).
import type { KernelProgram } from '../compiler/kernel/ir.ts';

/** The parameters stored in 16 bits: every gemm kernel's weights but a router's (the buffers, by name). */
export function halfWeightBuffers(p: KernelProgram): Set<string> {
  const byName = new Map(p.buffers.map((b) => [b.name, b]));
  const out = new Set<string>();
  for (const k of p.kernels) for (const w of k.gemm?.weights ?? []) {
    const b = byName.get(w);
    if (b && b.kind === 'param' && !b.aliasOf && !/(^|\.)router\.weight$/.test(b.source)) out.add(b.name);
  }
  return out;
}
