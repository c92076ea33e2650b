// Attention on CUDA as one fused kernel, the schedule of the WGSL one (targets/wgsl/attention.ts; FlashAttention,
// Dao et al. 2022): a block of 64 threads (two warps) takes QB queries of one (batch, head) into shared memory and
// walks the keys in tiles of 64 — one key per thread for the scores, an online softmax per query row whose maxima and
// sums are warp shuffles plus one exchange between the two warps, then P·V accumulated in registers per thread's
// value columns. RoPE, the bias and the causal limit are the loop nest's kernel-IR expressions rendered in place.
import Handlebars from 'handlebars';
import type { AttentionSpec, Kernel } from '../../compiler/kernel/ir.ts';
import { attentionPlan, fusable } from '../../codegen/attention.ts';
import { cStyleRenderer } from '../../codegen/c-style.ts';
import { attentionTemplate } from './attention-template.ts';
import { bufferParam, kernelComment, type CudaFunction } from './render.ts';
import { cudaFloat, cudaSpelling } from './spelling.ts';

const template = Handlebars.compile(attentionTemplate, { noEscape: true, strict: true });

export { fusable };

export function renderAttention(k: Kernel, a: AttentionSpec, sizes: string[], entry = k.name): CudaFunction {
  const r = cStyleRenderer(k, sizes, cudaSpelling);
  const p = attentionPlan(a);
  const code = template({
    entry, params: k.buffers.map((x) => bufferParam(x, r.bufferId.get(x.name)!)),
    D: p.D, DV: p.DV, QB: p.QB, KB: p.KB, NC: p.NC,
    Sq: r.expr(p.Sq), H: r.expr(p.H), Sk: r.expr(p.Sk), group: r.expr(p.group),
    scale: cudaFloat(a.scale), causal: a.causal, bias: p.bias ? r.expr(p.bias) : '',
    qRead: r.expr(p.qRead), kRead: r.expr(p.kRead), vRead: r.expr(p.vRead),
    out: r.bufferId.get(a.out)!,
  });
  return { kernel: k.name, comment: kernelComment(k, `${k.ops.join(', ')} as one fused kernel`), code, launch: { grid: p.grid, block: [p.KB, 1, 1] } };
}
