// mixtral (Jiang et al. 2024): every layer a top-k softmax MoE of SwiGLU experts with renormalised weights; GQA; RoPE.
import type { HfConfig } from './config.ts';
import { decoderOnlySpec, llamaTensors } from './decoder-only.ts';
import type { ImportMeta } from './meta.ts';

export function importMixtral(c: HfConfig, meta: ImportMeta): string {
  const heads = c.int('num_attention_heads');
  const tied = c.bool('tie_word_embeddings', false);
  const p = 'model.layers.{layer}.block_sparse_moe';
  if (c.has('sliding_window')) meta.notes.push(`sliding_window ${c.int('sliding_window')} is ignored: attention here is full causal (the same for sequences shorter than the window).`);
  return decoderOnlySpec({
    ...meta, modelType: 'mixtral',
    vocab: c.int('vocab_size'), dModel: c.int('hidden_size'), layers: c.int('num_hidden_layers'), eps: c.number('rms_norm_eps', 1e-5),
    attention: {
      kind: 'attention', heads, kvHeads: c.int('num_key_value_heads', heads),
      headDim: c.has('head_dim') ? c.int('head_dim') : undefined, theta: c.ropeTheta(1e6), qkvBias: false, outBias: false,
    },
    moe: {
      experts: c.int('num_local_experts'), topK: c.int('num_experts_per_tok'), hidden: c.int('intermediate_size'),
      router: 'softmax { normalize: true }', auxLoss: c.number('router_aux_loss_coef', 0.001),
    },
    tied, embeddingScale: 1, residualScale: 1, headScale: 1,
    tensors: [
      ...llamaTensors({ attnBias: false, outBias: false, qkNorm: false, tied }),
      { from: 'decoder.{layer}.moe.router.weight', to: `${p}.gate.weight` },
      { from: 'decoder.{layer}.moe.experts.gate', to: `${p}.experts.{expert}.w1.weight` },
      { from: 'decoder.{layer}.moe.experts.up', to: `${p}.experts.{expert}.w3.weight` },
      { from: 'decoder.{layer}.moe.experts.down', to: `${p}.experts.{expert}.w2.weight` },
    ],
  });
}
