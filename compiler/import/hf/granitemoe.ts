// granitemoe (IBM Granite 3.0 MoE): muP-style multipliers on embeddings, attention, residual branches and logits;
// experts stored fused (input_linear holds gate and up).
import type { HfConfig } from './config.ts';
import { decoderOnlySpec, llamaTensors } from './decoder-only.ts';
import type { ImportMeta } from './meta.ts';

export function importGranitemoe(c: HfConfig, meta: ImportMeta): string {
  const heads = c.int('num_attention_heads');
  const tied = c.bool('tie_word_embeddings', false);
  const bias = c.bool('attention_bias', false);
  const p = 'model.layers.{layer}.block_sparse_moe';
  return decoderOnlySpec({
    ...meta, modelType: 'granitemoe',
    vocab: c.int('vocab_size'), dModel: c.int('hidden_size'), layers: c.int('num_hidden_layers'), eps: c.number('rms_norm_eps', 1e-6),
    attention: {
      kind: 'attention', heads, kvHeads: c.int('num_key_value_heads', heads), theta: c.ropeTheta(),
      qkvBias: bias, outBias: bias, scale: c.number('attention_multiplier', 1),
    },
    moe: {
      experts: c.int('num_local_experts'), topK: c.int('num_experts_per_tok'), hidden: c.int('intermediate_size'),
      // softmax over the k selected logits, as Granite computes it, equals the renormalised top-k softmax.
      router: 'softmax { normalize: true }', auxLoss: c.number('router_aux_loss_coef', 0.001),
    },
    tied, embeddingScale: c.number('embedding_multiplier', 1), residualScale: c.number('residual_multiplier', 1),
    headScale: 1 / c.number('logits_scaling', 1),
    tensors: [
      ...llamaTensors({ attnBias: bias, outBias: bias, qkNorm: false, tied }),
      { from: 'decoder.{layer}.moe.router.weight', to: `${p}.router.layer.weight` },
      { from: 'decoder.{layer}.moe.experts.gate', to: `${p}.input_linear.weight`, chunk: { index: 0, of: 2, axis: 1 } },
      { from: 'decoder.{layer}.moe.experts.up', to: `${p}.input_linear.weight`, chunk: { index: 1, of: 2, axis: 1 } },
      { from: 'decoder.{layer}.moe.experts.down', to: `${p}.output_linear.weight` },
    ],
  });
}
