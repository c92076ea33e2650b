// olmoe (Muennighoff et al. 2024): fine-grained experts (64 × top-8 in OLMoE-1B-7B), QK-norm over the whole projection,
// top-k weights not renormalised.
import type { HfConfig } from './config.ts';
import { decoderOnlySpec, llamaTensors, swigluTensors } from './decoder-only.ts';
import type { ImportMeta } from './meta.ts';

export function importOlmoe(c: HfConfig, meta: ImportMeta): string {
  const heads = c.int('num_attention_heads');
  const tied = c.bool('tie_word_embeddings', false);
  const bias = c.bool('attention_bias', false);
  if (c.has('clip_qkv')) meta.notes.push(`clip_qkv ${c.number('clip_qkv')} is not supported and is ignored.`);
  return decoderOnlySpec({
    ...meta, modelType: 'olmoe',
    vocab: c.int('vocab_size'), dModel: c.int('hidden_size'), layers: c.int('num_hidden_layers'), eps: c.number('rms_norm_eps', 1e-5),
    attention: {
      kind: 'attention', heads, kvHeads: c.int('num_key_value_heads', heads),
      headDim: c.has('head_dim') ? c.int('head_dim') : undefined, theta: c.ropeTheta(), qkvBias: bias, outBias: bias, qkNorm: 'full',
    },
    moe: {
      experts: c.int('num_experts'), topK: c.int('num_experts_per_tok'), hidden: c.int('intermediate_size'),
      router: `softmax { normalize: ${c.bool('norm_topk_prob', false)} }`, auxLoss: c.number('router_aux_loss_coef', 0.01),
    },
    tied, embeddingScale: 1, residualScale: 1, headScale: 1,
    tensors: [
      ...llamaTensors({ attnBias: bias, outBias: bias, qkNorm: true, tied }),
      { from: 'decoder.{layer}.moe.router.weight', to: 'model.layers.{layer}.mlp.gate.weight' },
      ...swigluTensors('decoder.{layer}.moe.experts', 'model.layers.{layer}.mlp.experts', true),
    ],
  });
}
