// A random model's data (./spec-data.ts) as .moe text: one named component per layer's mixer and FFN, picked by
// `layer` in the block, so a shrunk failure prints as a short, readable spec.
import type { FfnData, LayerData, MixerData, ModelData, MoeData, RouterData } from './spec-data.ts';

const ffnFields = (f: FfnData) => `hidden: ${f.hidden}, act: ${f.act}${f.bias ? ', bias: true' : ''}`;

function mixer(m: MixerData, heads: number): string | undefined {
  switch (m.kind) {
    case 'none': return undefined;
    case 'fourier': return 'fourier {}';
    case 'mla': return [
      `mla { heads: ${m.heads}, q_lora_rank: ${m.qLoraRank}, kv_lora_rank: ${m.kvLoraRank}, qk_nope_dim: ${m.qkNopeDim}`,
      `, qk_rope_dim: ${m.qkRopeDim}, v_dim: ${m.vDim}, causal: ${m.causal}, rope: rope {}, norm: norm }`,
    ].join('');
    case 'attention': {
      const fields = [`heads: ${heads}`, `kv_heads: ${m.kvHeads}`, `causal: ${m.causal}`];
      if (m.bias) fields.push('bias: true');
      if (m.rope) fields.push(`rope: rope { fraction: ${m.rope.fraction}, interleaved: ${m.rope.interleaved} }`);
      if (m.qkNorm) fields.push(`qk_norm: norm, qk_norm_scope: ${m.qkNorm}`);
      if (m.switchHead) fields.push(`experts: ${m.switchHead.experts}`, `top_k: ${m.switchHead.topK}`);
      return `attention { ${fields.join(', ')} }`;
    }
  }
}

function router(r: RouterData): string {
  switch (r.kind) {
    case 'softmax': return `softmax { normalize: ${r.normalize}, bias: ${r.bias}${r.randomSecond ? ', second: random, seed: 3' : ''} }`;
    case 'sigmoid': return `sigmoid { groups: ${r.groups}, topk_groups: ${r.topkGroups}, normalize: ${r.normalize}, score_bias: ${r.scoreBias}, scale: ${r.scale} }`;
    case 'expert_choice': return `expert_choice { capacity_factor: ${r.capacityFactor}, score: ${r.score} }`;
    case 'hash': return `hash { method: ${r.method}, seed: ${r.seed} }`;
    case 'soft': return `soft { slots: ${r.slots} }`;
    case 'vocab': return `vocab { seed: ${r.seed} }`;
  }
}

function moe(m: MoeData): string {
  const lines = [`experts: ${m.experts}`, `top_k: ${m.topK}`, `expert: ffn { ${ffnFields(m.expert)} }`, `router: ${router(m.router)}`];
  if (m.granularity > 1) lines.push(`granularity: ${m.granularity}`);
  if (m.capacityFactor !== undefined) lines.push(`capacity_factor: ${m.capacityFactor}`);
  if (m.shared) lines.push(`shared: ffn { ${ffnFields(m.shared)} }`, `shared_gate: ${m.shared.gate}`);
  return `moe {\n    ${lines.join('\n    ')}\n  }`;
}

function ffn(f: LayerData['ffn']): string | undefined {
  if (f.kind === 'none') return undefined;
  return f.kind === 'moe' ? moe(f) : `ffn { ${ffnFields(f)} }`;
}

/** `a if layer == 0 else b if layer == 1 else c` over the layers' component names (`none` where a layer has none). */
function perLayer(names: (string | undefined)[]): string {
  const n = names.map((x) => x ?? 'none');
  if (n.every((x) => x === n[0])) return n[0]!;
  return n.slice(0, -1).map((x, i) => `${x} if layer == ${i} else `).join('') + n[n.length - 1];
}

export function renderSpec(m: ModelData): string {
  const out = [`${m.norm} norm {}`];
  const mixers = m.layers.map((l, i) => {
    const text = mixer(l.mixer, m.heads);
    if (text === undefined) return undefined;
    out.push(`${text.split(' ')[0]} mix${i} ${text.slice(text.indexOf('{'))}`);
    return `mix${i}`;
  });
  const ffns = m.layers.map((l, i) => {
    const text = ffn(l.ffn);
    if (text === undefined) return undefined;
    out.push(`${text.split(' ')[0]} ffn${i} ${text.slice(text.indexOf('{'))}`);
    return `ffn${i}`;
  });
  const block = [`norm: norm`, `attention: ${perLayer(mixers)}`, `ffn: ${perLayer(ffns)}`];
  if (m.residual !== 'pre_norm') block.push(`residual: ${m.residual}`);
  out.push(
    'model fuzz {',
    `  vocab: ${m.vocab}`,
    `  d_model: ${m.dModel}`,
    `  decoder: stack {`,
    `    layers: ${m.layers.length}`,
    `    block: block { ${block.join(', ')} }`,
    ...(m.finalNorm ? ['    final_norm: norm'] : []),
    '  }',
    ...(m.tied ? ['  head: head { tied: true }'] : []),
    '}',
  );
  return out.join('\n') + '\n';
}
