// deepseek_v3 (DeepSeek-AI 2024): multi-head latent attention, sigmoid routing with a selection bias and
// group-limited top-k, shared experts, the first k layers dense.
import { ImportError, type HfConfig } from './config.ts';
import { decoderOnlySpec, swigluTensors } from './decoder-only.ts';
import type { ImportMeta } from './meta.ts';
import type { TensorMapping } from './writer.ts';

export function importDeepseekV3(c: HfConfig, meta: ImportMeta): string {
  const tied = c.bool('tie_word_embeddings', false);
  if (c.bool('attention_bias', false)) throw new ImportError(`${c.path}: attention_bias true is not supported for deepseek_v3`);
  const qLora = c.int('q_lora_rank', 0);
  const firstDense = c.int('first_k_dense_replace', 0);
  if (c.int('num_nextn_predict_layers', 0) > 0) meta.notes.push('The multi-token-prediction layer (num_nextn_predict_layers) is not built, as in HF transformers.');
  const a = 'decoder.{layer}.attn';
  const h = 'model.layers.{layer}.self_attn';
  const attnTensors: TensorMapping[] = qLora > 0
    ? [
        { from: `${a}.q_a.weight`, to: `${h}.q_a_proj.weight` },
        { from: `${a}.q_a_norm.weight`, to: `${h}.q_a_layernorm.weight` },
        { from: `${a}.q_b.weight`, to: `${h}.q_b_proj.weight` },
      ]
    : [{ from: `${a}.q.weight`, to: `${h}.q_proj.weight` }];
  attnTensors.push(
    { from: `${a}.kv_a.weight`, to: `${h}.kv_a_proj_with_mqa.weight` },
    { from: `${a}.kv_a_norm.weight`, to: `${h}.kv_a_layernorm.weight` },
    { from: `${a}.kv_b.weight`, to: `${h}.kv_b_proj.weight` },
    { from: `${a}.o.weight`, to: `${h}.o_proj.weight` },
  );
  const nGroup = c.int('n_group', 1);
  return decoderOnlySpec({
    ...meta, modelType: 'deepseek_v3',
    vocab: c.int('vocab_size'), dModel: c.int('hidden_size'), layers: c.int('num_hidden_layers'), eps: c.number('rms_norm_eps', 1e-6),
    attention: {
      kind: 'mla', heads: c.int('num_attention_heads'), qLoraRank: qLora, kvLoraRank: c.int('kv_lora_rank'),
      nope: c.int('qk_nope_head_dim'), rope: c.int('qk_rope_head_dim'), v: c.int('v_head_dim'),
      theta: c.ropeTheta(), interleaved: c.bool('rope_interleave', true),
    },
    denseHidden: c.int('intermediate_size'),
    moe: {
      experts: c.int('n_routed_experts'), topK: c.int('num_experts_per_tok'), hidden: c.int('moe_intermediate_size'),
      shared: c.int('n_shared_experts', 0) > 0 ? { hidden: c.int('moe_intermediate_size'), count: c.int('n_shared_experts'), gate: false } : undefined,
      router: `sigmoid { groups: ${nGroup}, topk_groups: ${c.int('topk_group', 1)}, normalize: ${c.bool('norm_topk_prob', true)}, scale: ${c.number('routed_scaling_factor', 1)} }`,
      auxLoss: 0,
    },
    sparseWhen: firstDense > 0 ? `layer >= ${firstDense}` : undefined,
    tied, embeddingScale: 1, residualScale: 1, headScale: 1,
    tensors: [
      { from: 'embed', to: 'model.embed_tokens.weight' },
      { from: 'decoder.{layer}.attn_norm.weight', to: 'model.layers.{layer}.input_layernorm.weight' },
      { from: 'decoder.{layer}.ffn_norm.weight', to: 'model.layers.{layer}.post_attention_layernorm.weight' },
      ...attnTensors,
      ...swigluTensors('decoder.{layer}.ffn', 'model.layers.{layer}.mlp'),
      { from: 'decoder.{layer}.moe.router.weight', to: 'model.layers.{layer}.mlp.gate.weight' },
      { from: 'decoder.{layer}.moe.router.score_bias', to: 'model.layers.{layer}.mlp.gate.e_score_correction_bias' },
      ...swigluTensors('decoder.{layer}.moe.experts', 'model.layers.{layer}.mlp.experts', true),
      ...swigluTensors('decoder.{layer}.moe.shared', 'model.layers.{layer}.mlp.shared_experts'),
      { from: 'decoder.final_norm.weight', to: 'model.norm.weight' },
      ...(tied ? [] : [{ from: 'head.weight', to: 'lm_head.weight' }]),
    ],
  });
}
