// SwitchHead attention (experts in the value and output projections) and MoEUT's shared blocks, checked against
// the plain models they reduce to.
import { describe, expect, it } from 'vitest';
import { check } from '../../compiler/api.ts';
import { lowerModel } from '../../compiler/lower/model.ts';
import { runPipeline } from '../../compiler/passes/pipeline.ts';
import type { ModelSpec } from '../../compiler/spec/types.ts';
import { referenceExecutor } from '../../runtime/run-model.ts';
import { randomWeights } from '../../runtime/weights/random.ts';
import type { BoundParam } from '../../runtime/weights/bind.ts';
import { relativeL2 } from '../helpers/compare.ts';

const spec = (text: string): ModelSpec => {
  const c = check('/virtual/test.moe', {}, text);
  if (!c.model) throw new Error(c.diagnostics.map((d) => d.message).join('\n'));
  return c.model;
};
const messages = (text: string) => check('/virtual/test.moe', {}, text).diagnostics.map((d) => d.message);
const sizes = { batch: 2, seq: 5 };
const ids = { input_ids: Int32Array.from({ length: 10 }, (_, i) => (i * 7 + 1) % 16) };
const run = (m: ModelSpec, w: Map<string, BoundParam>) => referenceExecutor(runPipeline(lowerModel(m)))(w, ids, sizes).logits!;

const model = (attention: string, extra = '') => `
attention att { heads: 2, head_dim: 4${attention} }
model m {
  vocab: 16
  d_model: 8
  decoder: stack { layers: 2${extra}, block: block { norm: rmsnorm {}, attention: att, ffn: ffn { hidden: 8 } } }
}`;

describe('SwitchHead', () => {
  it('with one expert per head and zero routers it is plain attention scaled by σ(0)² = 1/4', () => {
    const switchHead = spec(model(', experts: 1, top_k: 1'));
    const plain = spec(model(''));
    const w = randomWeights(lowerModel(switchHead).params, 3, 0.5);
    const p = new Map(w);
    for (const l of [0, 1]) {
      const at = (n: string) => w.get(`decoder.${l}.attn.${n}`)!;
      for (const h of [0, 1]) at(`v_experts.${h}.router`).data.fill(0), at(`o_experts.${h}.router`).data.fill(0);
      // v: heads stacked by rows [2·4, 8]; o: heads side by side in columns [8, 2·4], times σ(0) · σ(0).
      p.set(`decoder.${l}.attn.v.weight`, { shape: [8, 8], data: Float32Array.from({ length: 64 }, (_, i) => at(`v_experts.${i >> 5}.weight`).data[i % 32]!) });
      p.set(`decoder.${l}.attn.o.weight`, { shape: [8, 8], data: Float32Array.from({ length: 64 }, (_, i) => 0.25 * at(`o_experts.${(i % 8) >> 2}.weight`).data[(i >> 3) * 4 + (i % 4)]!) });
    }
    expect(relativeL2(run(switchHead, w), run(plain, p))).toBeLessThan(1e-6);
  });

  it('counts k of the experts of each head as active: 2 layers · 2 heads · (v + o) · 4 · 8 weights per expert', () => {
    const g = lowerModel(spec(model(', experts: 3, top_k: 2')));
    const experts = g.params.filter((p) => /_experts\.\d\.weight$/.test(p.name));
    expect(experts.map((p) => p.type.shape)).toEqual(Array(8).fill([3, 4, 8]).map((s, i) => (i % 4 < 2 ? s : [3, 8, 4])));
    expect(experts.every((p) => p.attrs.experts === 3 && p.attrs.per_token === 2)).toBe(true);
  });

  it('refuses top_k without experts, more maps than experts, and biases', () => {
    expect(messages(model(', top_k: 2'))).toEqual(['attention.top_k applies to SwitchHead attention: set experts too']);
    expect(messages(model(', experts: 2, top_k: 3'))).toEqual(['top_k (3) is larger than the number of experts (2)']);
    expect(messages(model(', experts: 2, bias: true'))).toEqual(['SwitchHead attention (experts) has no biases on its value and output maps']);
  });
});

describe('shared blocks (stack.share, MoEUT)', () => {
  it('4 layers sharing a cycle of 2 equal 4 unshared layers whose layers 2 and 3 copy layers 0 and 1', () => {
    const shared = spec(model(', experts: 2, top_k: 1', ', share: 2').replace('layers: 2', 'layers: 4'));
    const unshared = spec(model(', experts: 2, top_k: 1').replace('layers: 2', 'layers: 4'));
    const g = lowerModel(shared);
    expect(new Set(g.params.map((p) => p.name.split('.').slice(0, 2).join('.')))).toEqual(new Set(['embed', 'decoder.0', 'decoder.1', 'head.weight']));
    const w = randomWeights(g.params, 5, 0.5);
    const copied = new Map(w);
    for (const [name, t] of w) if (name.startsWith('decoder.')) copied.set(name.replace(/^decoder\.(\d)/, (_, l) => `decoder.${+l + 2}`), t);
    expect(relativeL2(run(shared, w), run(unshared, copied))).toBeLessThan(1e-6);
  });

  it('refuses a cycle whose layers differ', () => {
    const text = model('', ', share: 2').replace('layers: 2', 'layers: 3').replace('ffn: ffn { hidden: 8 }', 'ffn: ffn { hidden: 8 if layer < 2 else 16 }');
    expect(messages(text)).toEqual(['stack.share 2: layer 2 differs from layer 0, whose parameters it would reuse']);
  });
});
