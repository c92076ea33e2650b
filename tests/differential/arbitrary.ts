// fast-check arbitraries over valid model data (./spec-data.ts): small dimensions (d_model 8–48, heads dividing it,
// kv_heads dividing heads), 1–3 layers, every attention kind and router, so that many models run in seconds.
import fc from 'fast-check';
import type { Act, AttentionData, FfnData, LayerData, MixerData, MlaData, ModelData, MoeData, RouterData } from './spec-data.ts';

const divisors = (n: number) => Array.from({ length: n }, (_, i) => i + 1).filter((d) => n % d === 0);
const acts: Act[] = ['relu', 'gelu', 'gelu_tanh', 'silu', 'swiglu', 'geglu', 'reglu'];

export const ffnData = (maxHidden = 24): fc.Arbitrary<FfnData> =>
  fc.record({ hidden: fc.integer({ min: 2, max: maxHidden }), act: fc.constantFrom(...acts), bias: fc.boolean() });

function attentionData(heads: number, headDim: number): fc.Arbitrary<AttentionData> {
  const rope = fc.option(fc.record({
    fraction: headDim % 4 === 0 ? fc.constantFrom(1, 0.5) : fc.constant(1),
    interleaved: fc.boolean(),
  }), { nil: undefined });
  const switchHead = fc.option(fc.integer({ min: 1, max: 4 }).chain((experts) => fc.integer({ min: 1, max: experts }).map((topK) => ({ experts, topK }))), { nil: undefined, freq: 4 });
  return fc.record({
    kind: fc.constant('attention' as const),
    kvHeads: fc.constantFrom(...divisors(heads)),
    causal: fc.boolean(),
    bias: fc.boolean(),
    rope: headDim % 2 === 0 ? rope : fc.constant(undefined),
    qkNorm: fc.option(fc.constantFrom('full' as const, 'head' as const), { nil: undefined }),
    switchHead,
  }).map((a) => (a.switchHead ? { ...a, bias: false } : a));
}

const even = (min: number, max: number) => fc.integer({ min: min / 2, max: max / 2 }).map((x) => 2 * x);

const mlaData: fc.Arbitrary<MlaData> = fc.record({
  kind: fc.constant('mla' as const),
  heads: fc.integer({ min: 1, max: 4 }),
  qLoraRank: fc.constantFrom(0, 4, 8),
  kvLoraRank: fc.integer({ min: 2, max: 12 }),
  qkNopeDim: fc.integer({ min: 2, max: 8 }),
  qkRopeDim: even(2, 8),
  vDim: fc.integer({ min: 2, max: 8 }),
  causal: fc.boolean(),
});

const mixerData = (heads: number, headDim: number): fc.Arbitrary<MixerData> => fc.oneof(
  { weight: 4, arbitrary: attentionData(heads, headDim) },
  { weight: 2, arbitrary: mlaData },
  { weight: 1, arbitrary: fc.constant({ kind: 'fourier' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'none' as const }) },
);

function routerData(experts: number, topK: number): fc.Arbitrary<RouterData> {
  const groups = divisors(experts);
  return fc.oneof(
    // GShard's random second expert applies to top-2 routers.
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('softmax' as const), normalize: fc.boolean(), bias: fc.boolean(), randomSecond: topK === 2 ? fc.boolean() : fc.constant(false) }) },
    {
      weight: 3,
      arbitrary: fc.constantFrom(...groups).chain((g) => fc.integer({ min: 1, max: g })
        .filter((tg) => topK <= (experts / g) * tg)
        .chain((tg) => fc.record({
          kind: fc.constant('sigmoid' as const), groups: fc.constant(g), topkGroups: fc.constant(tg),
          normalize: fc.boolean(), scoreBias: fc.boolean(), scale: fc.constantFrom(1, 2.5),
        }))),
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('expert_choice' as const), capacityFactor: fc.constantFrom(0.5, 1, 2), score: fc.constantFrom('softmax' as const, 'sigmoid' as const) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('hash' as const), method: fc.constantFrom('modulo' as const, 'random' as const), seed: fc.integer({ min: 0, max: 9 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('soft' as const), slots: fc.integer({ min: 1, max: 2 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('vocab' as const), seed: fc.integer({ min: 0, max: 9 }) }) },
  );
}

const moeData: fc.Arbitrary<MoeData> = fc.record({ experts: fc.integer({ min: 1, max: 6 }), granularity: fc.constantFrom(1, 1, 2) })
  .chain(({ experts, granularity }) => fc.record({
    kind: fc.constant('moe' as const),
    experts: fc.constant(experts),
    granularity: fc.constant(granularity),
    topK: fc.integer({ min: 1, max: Math.min(3, experts) }),
    expert: ffnData(12).map((f) => ({ ...f, hidden: f.hidden * granularity })),
    shared: fc.option(ffnData(12).chain((f) => fc.boolean().map((gate) => ({ ...f, gate }))), { nil: undefined }),
  }).chain((m) => routerData(m.experts * m.granularity, m.topK * m.granularity).chain((router) => {
    const usesK = router.kind === 'softmax' || router.kind === 'sigmoid';
    const capacity = usesK ? fc.option(fc.constantFrom(0.5, 1, 1.25, 2), { nil: undefined }) : fc.constant(undefined);
    return capacity.map((capacityFactor) => ({ ...m, router, ...(capacityFactor === undefined ? {} : { capacityFactor }) }));
  })));

const layerFfnData: fc.Arbitrary<LayerData['ffn']> = fc.oneof(
  { weight: 1, arbitrary: ffnData().map((f) => ({ kind: 'ffn' as const, ...f })) },
  { weight: 4, arbitrary: moeData },
  { weight: 1, arbitrary: fc.constant({ kind: 'none' as const }) },
);

const shapes = [8, 12, 16, 24, 32, 48].flatMap((d) => divisors(d).filter((h) => d / h >= 2 && h <= 8).map((h) => ({ dModel: d, heads: h })));

export const modelData: fc.Arbitrary<ModelData> = fc.constantFrom(...shapes).chain(({ dModel, heads }) => fc.record({
  vocab: fc.integer({ min: 8, max: 64 }),
  dModel: fc.constant(dModel),
  heads: fc.constant(heads),
  norm: fc.constantFrom('rmsnorm' as const, 'layernorm' as const),
  residual: fc.constantFrom('pre_norm' as const, 'pre_norm' as const, 'post_norm' as const, 'parallel' as const),
  finalNorm: fc.boolean(),
  tied: fc.boolean(),
  layers: fc.array(fc.record({ mixer: mixerData(heads, dModel / heads), ffn: layerFfnData }), { minLength: 1, maxLength: 3 }),
  // A parallel block needs both branches in every layer; otherwise it falls back to pre_norm.
}).map((m) => (m.residual === 'parallel' && m.layers.some((l) => l.mixer.kind === 'none' || l.ffn.kind === 'none') ? { ...m, residual: 'pre_norm' as const } : m)));

export interface RunData {
  batch: number;
  seq: number;
  /** Seeds of the weights and of the token ids. */
  weightSeed: number;
  idSeed: number;
}

export const runData: fc.Arbitrary<RunData> = fc.record({
  batch: fc.integer({ min: 1, max: 2 }),
  seq: fc.integer({ min: 1, max: 9 }),
  weightSeed: fc.integer({ min: 0, max: 1 << 20 }),
  idSeed: fc.integer({ min: 0, max: 1 << 20 }),
});
