// Every router kind of the language, from a spec to outputs: checked, lowered through the pipeline and run on the
// reference executor with seeded random weights.
import { describe, expect, it } from 'vitest';
import { lowerModel } from '../../compiler/lower/model.ts';
import { runPipeline } from '../../compiler/passes/pipeline.ts';
import { execute, type Tensor } from '../../runtime/reference/index.ts';
import { randomWeights } from '../../runtime/weights/random.ts';
import { checkText } from '../helpers/spec.ts';

function runSpec(moe: string, extra = '') {
  const text = `rmsnorm norm { eps: 1e-6 }
attention attn { heads: 4, rope: rope {} }
${extra}
moe sparse { ${moe} }
model tiny {
  vocab: 64
  d_model: 32
  decoder: stack { layers: 2, block: block { norm: norm, attention: attn, ffn: sparse }, final_norm: norm }
}
`;
  const c = checkText(text, `router-${Math.random().toString(36).slice(2)}.moe`);
  expect(c.rendered).toBe('');
  const g = runPipeline(lowerModel(c.model!));
  const weights = randomWeights(g.params, 7, 0.5);
  const ids: Tensor = { dtype: 'i32', shape: [2, 8], data: Int32Array.from({ length: 16 }, (_, i) => (i * 7) % 64) };
  const { outputs } = execute(g, (n) => ({ dtype: 'f32', shape: weights.get(n)!.shape, data: weights.get(n)!.data }), { input_ids: ids }, { batch: 2, seq: 8 });
  expect(outputs.logits!.shape).toEqual([2, 8, 64]);
  expect(Array.from(outputs.logits!.data).every(Number.isFinite)).toBe(true);
  return { graph: g, outputs };
}

describe('every router kind runs end to end', () => {
  it('softmax top-2, renormalised, with the load-balancing and z losses', () => {
    const { outputs } = runSpec('experts: 4, top_k: 2, expert: ffn { hidden: 16, act: swiglu }, router: softmax { normalize: true }, aux_loss: 0.01, z_loss: 0.001');
    expect(outputs.aux_loss!.data[0]).toBeGreaterThan(0);
    expect(outputs.z_loss!.data[0]).toBeGreaterThan(0);
    expect(outputs['expert_indices.1']!.shape).toEqual([16, 2]);
  });

  it('Switch top-1 with capacity (tokens dropped) differs from the same layer dropless', () => {
    const dropped = runSpec('experts: 4, top_k: 1, expert: ffn { hidden: 16 }, expert_capacity: 1');
    const dropless = runSpec('experts: 4, top_k: 1, expert: ffn { hidden: 16 }');
    expect(Array.from(dropped.outputs.logits!.data)).not.toEqual(Array.from(dropless.outputs.logits!.data));
  });

  it('DeepSeek-style: sigmoid with bias and groups, granularity, shared experts', () => {
    const { graph } = runSpec('experts: 4, granularity: 2, top_k: 1, expert: ffn { hidden: 32, act: swiglu }, shared: ffn { hidden: 16, act: swiglu }, shared_count: 2, router: sigmoid { groups: 4, topk_groups: 2, scale: 2.5 }');
    expect(graph.params.find((p) => p.name === 'decoder.0.moe.experts.up')!.type.shape).toEqual([8, 16, 32]);
    expect(graph.params.find((p) => p.name === 'decoder.0.moe.shared.up.weight')!.type.shape).toEqual([32, 32]);
  });

  it('Qwen2-MoE-style gated shared expert', () => {
    runSpec('experts: 4, top_k: 2, expert: ffn { hidden: 16, act: swiglu }, shared: ffn { hidden: 32, act: swiglu }, shared_gate: true');
  });

  it('Expert Choice', () => {
    runSpec('experts: 4, expert: ffn { hidden: 16, act: gelu }, router: expert_choice { capacity_factor: 2 }');
  });

  it('Hash Layers and a vocabulary map', () => {
    runSpec('experts: 4, expert: ffn { hidden: 16 }, router: hash { method: random, seed: 3 }');
    runSpec('experts: 4, expert: ffn { hidden: 16 }, router: hash { method: modulo }');
    runSpec('experts: 4, expert: ffn { hidden: 16 }, router: vocab { seed: 1 }');
  });

  it('Soft MoE', () => {
    runSpec('experts: 4, expert: ffn { hidden: 16, act: gelu }, router: soft { slots: 2 }');
  });
});
