// switch_transformers (Fedus et al. 2021): a T5 encoder-decoder whose every sparse_step-th FFN is a top-1 Switch layer.
import { ImportError, type HfConfig } from './config.ts';
import type { ImportMeta } from './meta.ts';
import { checkpointBlock, header, num, type TensorMapping } from './writer.ts';

const activations: Record<string, string> = { relu: 'relu', gelu: 'gelu', gelu_new: 'gelu_tanh', gelu_pytorch_tanh: 'gelu_tanh', silu: 'silu' };

/** HF: a block is sparse iff i % step == 1, or every block when step == 1; step 0 means none. */
function sparseWhen(step: number): string | undefined | null {
  if (step === 1) return undefined;
  if (step === 0) return null;
  return `layer % ${step} == 1`;
}

function stackTensors(stack: 'encoder' | 'decoder'): TensorMapping[] {
  const b = `${stack}.block.{layer}.layer`;
  const s = `${stack}.{layer}`;
  const ffnLayer = stack === 'encoder' ? 1 : 2;
  const t: TensorMapping[] = [
    { from: `${s}.attn_norm.weight`, to: `${b}.0.layer_norm.weight` },
    ...['q', 'k', 'v', 'o'].map((p) => ({ from: `${s}.attn.${p}.weight`, to: `${b}.0.SelfAttention.${p}.weight` })),
    { from: `${stack}.0.attn.rel_bias`, to: `${stack}.block.0.layer.0.SelfAttention.relative_attention_bias.weight` },
  ];
  if (stack === 'decoder') {
    t.push({ from: `${s}.cross_norm.weight`, to: `${b}.1.layer_norm.weight` });
    t.push(...['q', 'k', 'v', 'o'].map((p) => ({ from: `${s}.cross.${p}.weight`, to: `${b}.1.EncDecAttention.${p}.weight` })));
  }
  t.push(
    { from: `${s}.ffn_norm.weight`, to: `${b}.${ffnLayer}.layer_norm.weight` },
    { from: `${s}.ffn.up.weight`, to: `${b}.${ffnLayer}.mlp.wi.weight` },
    { from: `${s}.ffn.down.weight`, to: `${b}.${ffnLayer}.mlp.wo.weight` },
    { from: `${s}.moe.router.weight`, to: `${b}.${ffnLayer}.mlp.router.classifier.weight` },
    { from: `${s}.moe.router.bias`, to: `${b}.${ffnLayer}.mlp.router.classifier.bias` },
    { from: `${s}.moe.experts.up`, to: `${b}.${ffnLayer}.mlp.experts.expert_{expert}.wi.weight` },
    { from: `${s}.moe.experts.down`, to: `${b}.${ffnLayer}.mlp.experts.expert_{expert}.wo.weight` },
    { from: `${stack}.final_norm.weight`, to: `${stack}.final_layer_norm.weight` },
  );
  return t;
}

export function importSwitch(c: HfConfig, meta: ImportMeta): string {
  const act = activations[c.string('dense_act_fn', 'relu')];
  if (!act) throw new ImportError(`${c.path}: field 'dense_act_fn' '${c.string('dense_act_fn')}' is not supported; supported: ${Object.keys(activations).join(', ')}`);
  const tied = c.bool('tie_word_embeddings', true);
  const heads = c.int('num_heads');
  const capacity = c.int('expert_capacity', 64);
  const notes = [
    ...meta.notes,
    `HF transformers 5 flattens the tokens before counting expert capacity, so its expert_capacity (${capacity}) never`,
    'drops a token; this spec reproduces that (dropless). For the paper\'s token dropping, add',
    `\`expert_capacity: ${capacity}\` (or capacity_factor) to switch_ffn.`,
  ];
  const rel = `relative_bias { buckets: ${c.int('relative_attention_num_buckets', 32)}, max_distance: ${c.int('relative_attention_max_distance', 128)} }`;
  const out: string[] = [header('switch_transformers', meta.source, notes)];
  out.push(`let vocab = ${c.int('vocab_size')}`, `let d_model = ${c.int('d_model')}`, '');
  out.push(`rmsnorm norm { eps: ${num(c.number('layer_norm_epsilon', 1e-6))} }   # T5's LayerNorm: no mean, no bias`, '');
  out.push('# T5 attention does not scale q·k (the scale is folded into the initialisation).');
  out.push(`attention encoder_attention { heads: ${heads}, head_dim: ${c.int('d_kv')}, causal: false, scale: 1, relative_bias: ${rel} }`);
  out.push(`attention decoder_attention { heads: ${heads}, head_dim: ${c.int('d_kv')}, causal: true, scale: 1, relative_bias: ${rel} }`);
  out.push(`attention cross_attention { heads: ${heads}, head_dim: ${c.int('d_kv')}, scale: 1 }`, '');
  out.push(`ffn dense_ffn { hidden: ${c.int('d_ff')}, act: ${act} }`, '');
  out.push('moe switch_ffn {', `  experts: ${c.int('num_experts')}`, '  top_k: 1', `  expert: ffn { hidden: ${c.int('d_ff')}, act: ${act} }`);
  out.push(`  router: softmax { bias: ${c.bool('router_bias', false)} }`);
  out.push(`  aux_loss: ${num(c.number('router_aux_loss_coef', 0.001))}`, `  z_loss: ${num(c.number('router_z_loss_coef', 0.001))}`);
  if (c.number('router_jitter_noise', 0) > 0) out.push(`  jitter: ${num(c.number('router_jitter_noise'))}`);
  out.push(`  router_dtype: ${c.string('router_dtype', 'float32') === 'float32' ? 'f32' : c.string('router_dtype') === 'bfloat16' ? 'bf16' : 'f16'}`);
  out.push('}', '');
  const ffn = (step: number) => {
    const w = sparseWhen(step);
    return w === undefined ? 'switch_ffn' : w === null ? 'dense_ffn' : `switch_ffn if ${w} else dense_ffn`;
  };
  const decLayers = c.int('num_decoder_layers', c.int('num_layers'));
  out.push(`model ${meta.name} {`, '  vocab: vocab', '  d_model: d_model');
  out.push('  encoder: stack {', `    layers: ${c.int('num_layers')}`);
  out.push(`    block: block { norm: norm, attention: encoder_attention, ffn: ${ffn(c.int('encoder_sparse_step', 1))} }`, '    final_norm: norm', '  }');
  out.push('  decoder: stack {', `    layers: ${decLayers}`);
  out.push(`    block: block { norm: norm, attention: decoder_attention, cross_attention: cross_attention, ffn: ${ffn(c.int('decoder_sparse_step', 1))} }`);
  out.push('    final_norm: norm', '  }');
  // With tied embeddings T5 rescales the decoder output by d_model^-0.5 before the shared projection.
  out.push(tied ? '  head: head { tied: true, scale: d_model ** -0.5 }' : '  head: head { tied: false }');
  const tensors: TensorMapping[] = [{ from: 'embed', to: 'shared.weight' }, ...stackTensors('encoder'), ...stackTensors('decoder')];
  if (!tied) tensors.push({ from: 'head.weight', to: 'lm_head.weight' });
  out.push(checkpointBlock('huggingface', tensors), '}', '');
  return out.join('\n');
}
