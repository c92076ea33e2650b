// Attention on WebGPU as one fused kernel (FlashAttention's schedule, Dao et al. 2022): a workgroup of 64 invocations
// takes QB queries of one (batch, head), keeps them in workgroup memory, and walks the keys in tiles of 64 — one key
// per invocation for the scores, an online softmax per query row (running max m, sum l, rescaled as m grows), then
// each invocation accumulates P·V for its value columns in registers. Scores never leave the workgroup, and each
// key and value row is read once per QB queries instead of once per query. RoPE, the bias and the causal limit are
// the loop nest's own kernel-IR expressions, rendered in place, so the semantics stay the loop nest's.
import Handlebars from 'handlebars';
import type { AttentionSpec, Kernel } from '../../compiler/kernel/ir.ts';
import { attentionPlan, fusable } from '../../codegen/attention.ts';
import { exprRenderer, type HalfWeights, type WgslKernel } from './render.ts';
import { attentionTemplate } from './templates.ts';

const template = Handlebars.compile(attentionTemplate, { noEscape: true, strict: true });

export { fusable };

export function renderAttention(k: Kernel, a: AttentionSpec, sizes: string[], options: { subgroups: boolean; half?: HalfWeights }): WgslKernel {
  const r = exprRenderer(k, sizes, options.half);
  const p = attentionPlan(a);
  const code = template({
    qRead: r.expr(p.qRead), kRead: r.expr(p.kRead), vRead: r.expr(p.vRead), bias: p.bias ? r.expr(p.bias) : '',
    ...r.header(),
    name: k.name, loc: k.loc ?? '', ops: k.ops.join(', '), subgroups: options.subgroups,
    D: p.D, DV: p.DV, QB: p.QB, KB: p.KB, NC: p.NC,
    Sq: r.expr(p.Sq), H: r.expr(p.H), Sk: r.expr(p.Sk), group: r.expr(p.group),
    scale: r.expr({ k: 'const', value: a.scale, type: 'f32' }),
    causal: a.causal,
    out: r.bufferId.get(a.out)!,
  });
  return { name: k.name, code, grid: [], dispatch: p.grid };
}
