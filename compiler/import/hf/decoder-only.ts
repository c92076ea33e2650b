// The .moe text of a decoder-only MoE transformer (Mixtral, OLMoE, Qwen2-MoE, Granite-MoE, DeepSeek-V3),
// from a plan that each model type's importer fills in.
import { checkpointBlock, header, num, type TensorMapping } from './writer.ts';

export interface AttentionPlan {
  kind: 'attention';
  heads: number;
  kvHeads: number;
  headDim?: number;
  theta: number;
  qkvBias: boolean;
  outBias: boolean;
  qkNorm?: 'full' | 'head';
  scale?: number;
}

export interface MlaPlan {
  kind: 'mla';
  heads: number;
  qLoraRank: number;
  kvLoraRank: number;
  nope: number;
  rope: number;
  v: number;
  theta: number;
  interleaved: boolean;
}

export interface MoePlan {
  experts: number;
  topK: number;
  hidden: number;
  router: string;
  shared?: { hidden: number; count: number; gate: boolean };
  auxLoss: number;
}

export interface DecoderOnlyPlan {
  modelType: string;
  source: string;
  notes: string[];
  name: string;
  vocab: number;
  dModel: number;
  layers: number;
  eps: number;
  attention: AttentionPlan | MlaPlan;
  denseHidden?: number;
  moe: MoePlan;
  /** A condition on `layer` selecting the MoE layers, or undefined when every layer is MoE. */
  sparseWhen?: string;
  tied: boolean;
  embeddingScale: number;
  residualScale: number;
  headScale: number;
  tensors: TensorMapping[];
}

export function decoderOnlySpec(p: DecoderOnlyPlan): string {
  const out: string[] = [header(p.modelType, p.source, p.notes)];
  out.push(`let vocab = ${p.vocab}`, `let d_model = ${p.dModel}`, '');
  out.push(`rmsnorm norm { eps: ${num(p.eps)} }`, '');
  const a = p.attention;
  if (a.kind === 'attention') {
    out.push('attention self_attention {', `  heads: ${a.heads}`);
    if (a.kvHeads !== a.heads) out.push(`  kv_heads: ${a.kvHeads}`);
    if (a.headDim !== undefined) out.push(`  head_dim: ${a.headDim}`);
    if (a.qkvBias) out.push('  bias: true');
    if (a.outBias) out.push('  out_bias: true');
    if (a.scale !== undefined) out.push(`  scale: ${num(a.scale)}`);
    out.push(`  rope: rope { theta: ${num(a.theta)} }`);
    if (a.qkNorm) out.push('  qk_norm: norm', ...(a.qkNorm === 'head' ? ['  qk_norm_scope: head'] : []));
    out.push('}', '');
  } else {
    out.push('mla self_attention {', `  heads: ${a.heads}`);
    if (a.qLoraRank > 0) out.push(`  q_lora_rank: ${a.qLoraRank}`);
    out.push(`  kv_lora_rank: ${a.kvLoraRank}`, `  qk_nope_dim: ${a.nope}`, `  qk_rope_dim: ${a.rope}`, `  v_dim: ${a.v}`);
    out.push(`  rope: rope { theta: ${num(a.theta)}${a.interleaved ? ', interleaved: true' : ''} }`, '  norm: norm', '}', '');
  }
  if (p.sparseWhen !== undefined && p.denseHidden !== undefined) out.push(`ffn dense_ffn { hidden: ${p.denseHidden}, act: swiglu }`, '');
  const m = p.moe;
  out.push('moe sparse_ffn {', `  experts: ${m.experts}`, `  top_k: ${m.topK}`, `  expert: ffn { hidden: ${m.hidden}, act: swiglu }`);
  if (m.shared) {
    out.push(`  shared: ffn { hidden: ${m.shared.hidden}, act: swiglu }`);
    if (m.shared.count !== 1) out.push(`  shared_count: ${m.shared.count}`);
    if (m.shared.gate) out.push('  shared_gate: true');
  }
  out.push(`  router: ${m.router}`);
  if (m.auxLoss > 0) out.push(`  aux_loss: ${num(m.auxLoss)}`);
  out.push('}', '');
  const ffn = p.sparseWhen === undefined ? 'sparse_ffn' : `sparse_ffn if ${p.sparseWhen} else dense_ffn`;
  out.push(`model ${p.name} {`, '  vocab: vocab', '  d_model: d_model');
  if (p.embeddingScale !== 1) out.push(`  embedding: embedding { scale: ${num(p.embeddingScale)} }`);
  out.push('  decoder: stack {', `    layers: ${p.layers}`, '    block: block {', '      norm: norm', '      attention: self_attention', `      ffn: ${ffn}`);
  if (p.residualScale !== 1) out.push(`      residual_scale: ${num(p.residualScale)}`);
  out.push('    }', '    final_norm: norm', '  }');
  const headFields = [`tied: ${p.tied}`, ...(p.headScale !== 1 ? [`scale: ${num(p.headScale)}`] : [])];
  out.push(`  head: head { ${headFields.join(', ')} }`);
  out.push(checkpointBlock('huggingface', p.tensors), '}', '');
  return out.join('\n');
}

/** Names shared by the Llama-style decoders. */
export function llamaTensors(opts: { attnBias: boolean; outBias: boolean; qkNorm: boolean; tied: boolean }): TensorMapping[] {
  const t: TensorMapping[] = [
    { from: 'embed', to: 'model.embed_tokens.weight' },
    { from: 'decoder.{layer}.attn_norm.weight', to: 'model.layers.{layer}.input_layernorm.weight' },
    { from: 'decoder.{layer}.ffn_norm.weight', to: 'model.layers.{layer}.post_attention_layernorm.weight' },
  ];
  for (const p of ['q', 'k', 'v', 'o']) {
    t.push({ from: `decoder.{layer}.attn.${p}.weight`, to: `model.layers.{layer}.self_attn.${p}_proj.weight` });
    if ((p === 'o' && opts.outBias) || (p !== 'o' && opts.attnBias)) t.push({ from: `decoder.{layer}.attn.${p}.bias`, to: `model.layers.{layer}.self_attn.${p}_proj.bias` });
  }
  if (opts.qkNorm) {
    t.push({ from: 'decoder.{layer}.attn.q_norm.weight', to: 'model.layers.{layer}.self_attn.q_norm.weight' });
    t.push({ from: 'decoder.{layer}.attn.k_norm.weight', to: 'model.layers.{layer}.self_attn.k_norm.weight' });
  }
  t.push({ from: 'decoder.final_norm.weight', to: 'model.norm.weight' });
  if (!opts.tied) t.push({ from: 'head.weight', to: 'lm_head.weight' });
  return t;
}

/** gate/up/down of a SwiGLU FFN under HF's gate_proj/up_proj/down_proj names. */
export function swigluTensors(from: string, to: string, expert = false): TensorMapping[] {
  const suffix = expert ? '' : '.weight';
  const e = expert ? '.{expert}' : '';
  return [
    { from: `${from}.gate${suffix}`, to: `${to}${e}.gate_proj.weight` },
    { from: `${from}.up${suffix}`, to: `${to}${e}.up_proj.weight` },
    { from: `${from}.down${suffix}`, to: `${to}${e}.down_proj.weight` },
  ];
}
