// qwen2_moe (Qwen1.5-MoE, Qwen2-57B-A14B): a sigmoid-gated shared expert beside the routed ones, qkv biases,
// sparse layers every decoder_sparse_step except mlp_only_layers.
import type { HfConfig } from './config.ts';
import { decoderOnlySpec, llamaTensors, swigluTensors } from './decoder-only.ts';
import type { ImportMeta } from './meta.ts';

export function importQwen2Moe(c: HfConfig, meta: ImportMeta): string {
  const heads = c.int('num_attention_heads');
  const tied = c.bool('tie_word_embeddings', false);
  const qkvBias = c.bool('qkv_bias', true);
  const step = c.int('decoder_sparse_step', 1);
  const denseOnly = c.ints('mlp_only_layers');
  const layers = c.int('num_hidden_layers');
  const conditions: string[] = [];
  if (step > 1) conditions.push(`(layer + 1) % ${step} == 0`);
  if (denseOnly.length > 0) conditions.push(`not (${denseOnly.map((l) => `layer == ${l}`).join(' or ')})`);
  if (c.bool('use_sliding_window', false)) meta.notes.push('use_sliding_window is ignored: attention here is full causal.');
  const sharedHidden = c.int('shared_expert_intermediate_size', 0);
  return decoderOnlySpec({
    ...meta, modelType: 'qwen2_moe',
    vocab: c.int('vocab_size'), dModel: c.int('hidden_size'), layers, eps: c.number('rms_norm_eps', 1e-6),
    attention: {
      kind: 'attention', heads, kvHeads: c.int('num_key_value_heads', heads),
      headDim: c.has('head_dim') ? c.int('head_dim') : undefined, theta: c.ropeTheta(), qkvBias, outBias: false,
    },
    denseHidden: c.int('intermediate_size'),
    moe: {
      experts: c.int('num_experts'), topK: c.int('num_experts_per_tok'), hidden: c.int('moe_intermediate_size'),
      shared: sharedHidden > 0 ? { hidden: sharedHidden, count: 1, gate: true } : undefined,
      router: `softmax { normalize: ${c.bool('norm_topk_prob', false)} }`, auxLoss: c.number('router_aux_loss_coef', 0.001),
    },
    sparseWhen: conditions.length > 0 ? conditions.join(' and ') : undefined,
    tied, embeddingScale: 1, residualScale: 1, headScale: 1,
    tensors: [
      ...llamaTensors({ attnBias: qkvBias, outBias: false, qkNorm: false, tied }),
      ...swigluTensors('decoder.{layer}.ffn', 'model.layers.{layer}.mlp'),
      { from: 'decoder.{layer}.moe.router.weight', to: 'model.layers.{layer}.mlp.gate.weight' },
      ...swigluTensors('decoder.{layer}.moe.experts', 'model.layers.{layer}.mlp.experts', true),
      ...swigluTensors('decoder.{layer}.moe.shared', 'model.layers.{layer}.mlp.shared_expert'),
      { from: 'decoder.{layer}.moe.shared_gate.weight', to: 'model.layers.{layer}.mlp.shared_expert_gate.weight' },
    ],
  });
}
