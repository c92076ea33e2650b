// One line on what a checked component is, in the words of the spec: "8 experts, top-2, softmax router, …".
import type { AttentionSpec, FeedForward, FfnSpec, FourierSpec, LayerSpec, MlaSpec, ModelSpec, MoeSpec, NormSpec, StackSpec } from '../../compiler/spec/types.ts';
import type { Use } from './component-uses.ts';

/** The checked spec of the component in `use`. */
export function useSpec(model: ModelSpec, use: Use): object | undefined {
  const stack = model[use.stack];
  if (!stack) return undefined;
  if (use.slot === 'stack') return stack;
  if (use.slot === 'final_norm') return stack.finalNorm;
  const layer = stack.layers[use.layer];
  if (!layer) return undefined;
  if (use.slot === 'block') return layer;
  if (use.slot === 'cross_attention') return layer.crossAttention;
  return layer[use.slot];
}

export function summarize(spec: object, slot: Use['slot']): string {
  if (slot === 'stack') return stackSummary(spec as StackSpec);
  if (slot === 'block') return blockSummary(spec as LayerSpec);
  if (slot === 'norm' || slot === 'final_norm') return normSummary(spec as NormSpec);
  if (slot === 'ffn') return ffnSummary(spec as FeedForward);
  return attentionSummary(spec as AttentionSpec | MlaSpec | FourierSpec);
}

function ffnSummary(f: FeedForward): string {
  if (f.kind === 'ffn') return denseSummary(f);
  if (f.kind === 'peer') return `${f.experts} single-neuron experts, ${f.heads} heads × top-${f.topK}, key_dim ${f.keyDim}, ${f.act}`;
  return moeSummary(f);
}

function denseSummary(f: FfnSpec): string {
  return `hidden ${f.hidden}, ${actName(f)}${f.bias ? ', with biases' : ''}`;
}

/** The activation as a spec writes it: a gated silu is swiglu (Shazeer 2020). */
function actName(f: FfnSpec): string {
  if (!f.gated) return f.act;
  return ({ silu: 'swiglu', gelu: 'geglu', relu: 'reglu' } as Record<string, string>)[f.act] ?? `gated ${f.act}`;
}

function moeSummary(m: MoeSpec): string {
  const parts = [`${m.experts} experts`, `top-${m.topK}`];
  if (m.granularity > 1) parts[0] += ` (granularity ${m.granularity})`;
  const r = m.router;
  const normalized = (r.kind === 'softmax' || r.kind === 'sigmoid') && r.normalize ? ' (normalized)' : '';
  parts.push(`${r.kind === 'expert_choice' ? 'expert-choice' : r.kind} router${normalized}`);
  parts.push(`experts: ffn ${denseSummary(m.expert)}`);
  if (m.shared) parts.push(`${m.sharedCount} shared expert${m.sharedCount === 1 ? '' : 's'} (hidden ${m.shared.hidden})`);
  if (m.capacity?.perExpert !== undefined) parts.push(`capacity ${m.capacity.perExpert} per expert`);
  else if (m.capacity?.factor !== undefined) parts.push(`capacity factor ${m.capacity.factor}`);
  return parts.join(', ');
}

function attentionSummary(a: AttentionSpec | MlaSpec | FourierSpec): string {
  if (a.kind === 'fourier') return 'Fourier token mixing, no parameters';
  if (a.kind === 'mla') return `${a.heads} heads, kv_lora_rank ${a.kvLoraRank}, q_lora_rank ${a.qLoraRank}, qk ${a.qkNopeDim}+${a.qkRopeDim}, v ${a.vDim}`;
  const kv = a.kvHeads === a.heads ? '' : a.kvHeads === 1 ? ', multi-query' : `, ${a.kvHeads} kv heads (grouped-query)`;
  const parts = [`${a.heads} heads${kv}`, `head_dim ${a.headDim}`, a.causal ? 'causal' : 'bidirectional'];
  if (a.rope) parts.push(`RoPE θ=${a.rope.theta}`);
  if (a.relativeBias) parts.push('relative position bias');
  if (a.experts) parts.push(`SwitchHead ${a.experts.experts} experts, top-${a.experts.topK}`);
  return parts.join(', ');
}

function normSummary(n: NormSpec): string {
  return `${n.kind}, eps ${n.eps.toExponential()}${n.kind === 'layernorm' && !n.bias ? ', no bias' : ''}`;
}

function blockSummary(l: LayerSpec): string {
  const parts = [l.residual.replace('_', '-')];
  if (l.attention) parts.push(l.attention.kind === 'attention' ? 'attention' : l.attention.kind);
  if (l.crossAttention) parts.push('cross-attention');
  if (l.ffn) parts.push(l.ffn.kind);
  return parts.join(', ');
}

function stackSummary(s: StackSpec): string {
  return `${s.layers.length} layers${s.share ? `, weights shared in cycles of ${s.share}` : ''}${s.finalNorm ? ', final norm' : ''}`;
}

export function modelSummary(m: ModelSpec): string {
  const stacks = m.encoder ? `encoder ${m.encoder.layers.length} layers, decoder ${m.decoder.layers.length} layers` : `${m.decoder.layers.length} layers`;
  return `vocab ${m.vocab}, d_model ${m.dModel}, ${stacks}${m.head.tied ? ', tied head' : ''}`;
}
