// The router in one kernel, for targets that have a fused form of it: a matrix product whose outputs (the router's
// logits) no kernel but the next reads, a softmax_topk over them, become one kernel that computes both (the product's
// `gemm` with the softmax_topk's `router`): one launch less, and the softmax reads the logits from registers. The
// logits are still written (a model may output them, as Hugging Face's do for the auxiliary loss). The merged
// kernel's body is the two loop nests one after the other, which the kernel interpreter runs as they were.
import type { GemmSpec, Kernel, KernelProgram } from './ir.ts';
import { sharingStorage } from './views.ts';

/** The program with each such pair merged; `fits` says which products the target fuses (its narrow matmul's). */
export function fuseRouters(p: KernelProgram, fits: (g: GemmSpec) => boolean): KernelProgram {
  const aliased = sharingStorage(p);
  const uses = (buffer: string) => p.kernels.filter((k) => k.buffers.some((b) => b.name === buffer));
  const kernels: Kernel[] = [];
  for (let i = 0; i < p.kernels.length; i++) {
    const a = p.kernels[i]!;
    const b = p.kernels[i + 1];
    const logits = a.gemm?.out;
    const fused = !!a.gemm && !a.router && !!b?.router && !b.gemm && b.router.logits === logits && b.router.n === a.gemm.N && fits(a.gemm)
      && !aliased.has(logits) && uses(logits).length === 2;
    if (!fused) {
      kernels.push(a);
      continue;
    }
    const mine = new Set(a.buffers.map((x) => x.name));
    kernels.push({ ...a, ops: [...a.ops, ...b.ops], buffers: [...a.buffers, ...b.buffers.filter((x) => !mine.has(x.name))], body: [...a.body, ...b.body], router: b.router });
    i++;
  }
  return { ...p, kernels };
}
