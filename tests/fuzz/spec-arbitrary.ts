// Random valid specs, as a structure the printer (spec-print.ts) turns into .moe text. Every choice is drawn
// independently and then made valid (heads from the divisors of d_model, kv_heads from those of heads, sigmoid groups
// from those of the experts, …), so fast-check shrinks each choice on its own. Models stay tiny (d_model ≤ 64, at most
// 3 layers of at most 8 experts) so that they can also be lowered and run.
import fc from 'fast-check';

export type Act = 'relu' | 'gelu' | 'gelu_tanh' | 'silu' | 'swiglu' | 'geglu' | 'reglu';
export interface GenNorm { kind: 'rmsnorm' | 'layernorm'; eps: number }
export interface GenRope { theta: number; fraction: number; interleaved: boolean }
export type GenAttention =
  | { kind: 'attention'; heads: number; kvHeads: number; headDim?: number; causal: boolean; bias: boolean; rope?: GenRope; qkNorm?: { norm: GenNorm; scope: 'full' | 'head' } }
  | { kind: 'mla'; heads: number; qLoraRank: number; kvLoraRank: number; qkNopeDim: number; qkRopeDim: number; vDim: number; interleaved: boolean }
  | { kind: 'fourier' }
  | { kind: 'none' };
export interface GenFfn { hidden: number; act: Act; bias: boolean }
export type GenRouter =
  | { kind: 'softmax'; normalize: boolean; second: 'always' | 'random'; seed: number }
  | { kind: 'sigmoid'; groups: number; topkGroups: number; scale: number; normalize: boolean }
  | { kind: 'expert_choice'; capacityFactor: number; score: 'softmax' | 'sigmoid' }
  | { kind: 'hash'; method: 'modulo' | 'random'; seed: number }
  | { kind: 'soft'; slots: number }
  | { kind: 'vocab'; seed: number };
export interface GenMoe {
  experts: number;
  topK: number;
  granularity: number;
  expert: GenFfn;
  shared?: { ffn: GenFfn; count: number; gate: boolean };
  router: GenRouter;
  capacityFactor?: number;
  auxLoss: number;
  zLoss: number;
}
/** Where the MoE sits in the stack: every layer, odd layers, or all but the first (dense elsewhere). */
export type Pattern = 'every' | 'odd' | 'after-first';
export interface GenSpec {
  vocab: number;
  dModel: number;
  layers: number;
  norm: GenNorm;
  residual: 'pre_norm' | 'post_norm' | 'parallel';
  attention: GenAttention;
  dense: GenFfn;
  /** The dense FFN's hidden size in odd layers (a layer-dependent field), when it differs. */
  denseOddHidden?: number;
  moe?: GenMoe;
  pattern: Pattern;
  /** An encoder of this many layers, and cross-attention in the decoder. */
  encoderLayers?: number;
  finalNorm: boolean;
  tiedHead: boolean;
  /** How the printer writes numbers: 0 literals, 1 through params and lets, 2 as arithmetic. */
  style: 0 | 1 | 2;
}

const acts: readonly Act[] = ['relu', 'gelu', 'gelu_tanh', 'silu', 'swiglu', 'geglu', 'reglu'];

export function divisors(n: number): number[] {
  const out: number[] = [];
  for (let d = 1; d <= n; d++) if (n % d === 0) out.push(d);
  return out;
}

/** The i-th element of xs, cyclically: turns a free random index into a valid choice. */
export function pick<T>(xs: readonly T[], i: number): T {
  return xs[i % xs.length]!;
}

const normArb: fc.Arbitrary<GenNorm> = fc.record({ kind: fc.constantFrom('rmsnorm' as const, 'layernorm' as const), eps: fc.constantFrom(1e-5, 1e-6, 0.001) });
const ffnArb = (hiddenUnit: number): fc.Arbitrary<GenFfn> =>
  fc.record({ hidden: fc.integer({ min: 1, max: 8 }).map((k) => k * hiddenUnit), act: fc.constantFrom(...acts), bias: fc.boolean() });

/** Multi-head attention with heads dividing d_model (or an explicit head_dim), kv_heads dividing heads, an even rotary width. */
export function attentionArb(dModel: number): fc.Arbitrary<GenAttention> {
  return fc.record({
    headsIdx: fc.nat(), kvIdx: fc.nat(), explicitHeadDim: fc.option(fc.constantFrom(4, 8, 16), { nil: undefined }),
    causal: fc.boolean(), bias: fc.boolean(),
    rope: fc.option(fc.record({ theta: fc.constantFrom(10000, 500000, 1e6), half: fc.boolean(), interleaved: fc.boolean() }), { nil: undefined }),
    qkNorm: fc.option(fc.record({ norm: normArb, scope: fc.constantFrom('full' as const, 'head' as const) }), { nil: undefined }),
  }).map((r) => {
    const heads = r.explicitHeadDim ? pick([1, 2, 3, 4], r.headsIdx) : pick(divisors(dModel).filter((h) => (dModel / h) % 2 === 0 && h <= 8), r.headsIdx);
    const headDim = r.explicitHeadDim ?? dModel / heads;
    const rope = r.rope ? { theta: r.rope.theta, fraction: r.rope.half && headDim % 4 === 0 ? 0.5 : 1, interleaved: r.rope.interleaved } : undefined;
    return {
      kind: 'attention' as const, heads, kvHeads: pick(divisors(heads), r.kvIdx), headDim: r.explicitHeadDim,
      causal: r.causal, bias: r.bias, rope, qkNorm: r.qkNorm,
    };
  });
}

const mlaArb: fc.Arbitrary<GenAttention> = fc.record({
  kind: fc.constant('mla' as const), heads: fc.integer({ min: 1, max: 4 }), qLoraRank: fc.constantFrom(0, 8, 16),
  kvLoraRank: fc.integer({ min: 2, max: 16 }), qkNopeDim: fc.integer({ min: 1, max: 8 }),
  qkRopeDim: fc.constantFrom(2, 4, 8), vDim: fc.integer({ min: 1, max: 8 }), interleaved: fc.boolean(),
});

/** A router and the top_k it allows: second: random needs top 2; sigmoid's groups divide the experts and hold k. */
function routerArb(experts: number, topK: number): fc.Arbitrary<GenRouter> {
  return fc.oneof(
    fc.record({ normalize: fc.boolean(), random: fc.boolean(), seed: fc.nat({ max: 100 }) })
      .map((r) => ({ kind: 'softmax' as const, normalize: r.normalize, second: r.random && topK === 2 ? 'random' as const : 'always' as const, seed: r.seed })),
    fc.record({ g: fc.nat(), t: fc.nat(), scale: fc.constantFrom(1, 2.5), normalize: fc.boolean() }).map((r) => {
      // Groups whose top groups hold top_k experts: topK ≤ (experts / groups) · topkGroups.
      const groups = pick(divisors(experts), r.g);
      const minGroups = Math.ceil(topK / (experts / groups));
      const topkGroups = minGroups + (r.t % (groups - minGroups + 1));
      return { kind: 'sigmoid' as const, groups, topkGroups, scale: r.scale, normalize: r.normalize };
    }),
    fc.record({ kind: fc.constant('expert_choice' as const), capacityFactor: fc.constantFrom(0.5, 1, 2), score: fc.constantFrom('softmax' as const, 'sigmoid' as const) }),
    fc.record({ kind: fc.constant('hash' as const), method: fc.constantFrom('modulo' as const, 'random' as const), seed: fc.nat({ max: 100 }) }),
    fc.record({ kind: fc.constant('soft' as const), slots: fc.integer({ min: 1, max: 2 }) }),
    fc.record({ kind: fc.constant('vocab' as const), seed: fc.nat({ max: 100 }) }),
  );
}

/** A mixture: experts × granularity routed experts of hidden / granularity, top_k ≤ experts. */
export function moeArb(): fc.Arbitrary<GenMoe> {
  return fc.record({ experts: fc.integer({ min: 1, max: 8 }), k: fc.nat(), granularity: fc.constantFrom(1, 1, 2) }).chain(({ experts, k, granularity }) => {
    const topK = 1 + (k % Math.min(experts, 2));
    return fc.record({
      experts: fc.constant(experts), topK: fc.constant(topK), granularity: fc.constant(granularity),
      expert: ffnArb(4 * granularity),
      shared: fc.option(fc.record({ ffn: ffnArb(4), count: fc.integer({ min: 1, max: 2 }), gate: fc.boolean() }), { nil: undefined }),
      router: routerArb(experts * granularity, topK * granularity),
      capacityFactor: fc.option(fc.constantFrom(0.5, 1, 1.25, 2), { nil: undefined }),
      auxLoss: fc.constantFrom(0, 0.01), zLoss: fc.constantFrom(0, 0.001),
    }).map((m) => {
      const usesK = m.router.kind === 'softmax' || m.router.kind === 'sigmoid';
      return { ...m, capacityFactor: usesK ? m.capacityFactor : undefined };
    });
  });
}

export const specArb: fc.Arbitrary<GenSpec> = fc.record({
  dModel: fc.constantFrom(8, 16, 24, 32, 48, 64),
  attnKind: fc.constantFrom('attention', 'attention', 'attention', 'mla', 'fourier', 'none'),
}).chain(({ dModel, attnKind }) => fc.record({
  vocab: fc.integer({ min: 2, max: 97 }),
  dModel: fc.constant(dModel),
  layers: fc.integer({ min: 1, max: 3 }),
  norm: normArb,
  residual: fc.constantFrom('pre_norm' as const, 'post_norm' as const, 'parallel' as const),
  attention: attnKind === 'attention' ? attentionArb(dModel) : attnKind === 'mla' ? mlaArb : fc.constant({ kind: attnKind } as GenAttention),
  dense: ffnArb(4),
  denseOddHidden: fc.option(fc.integer({ min: 1, max: 8 }).map((k) => 4 * k), { nil: undefined }),
  moe: fc.option(moeArb(), { nil: undefined, freq: 4 }),
  pattern: fc.constantFrom('every' as const, 'odd' as const, 'after-first' as const),
  encoderLayers: fc.option(fc.integer({ min: 1, max: 2 }), { nil: undefined, freq: 5 }),
  finalNorm: fc.boolean(),
  tiedHead: fc.boolean(),
  style: fc.constantFrom(0 as const, 1 as const, 2 as const),
})).map((s) => ({
  ...s,
  // parallel residuals need attention and an FFN in every layer, and have no place for cross-attention.
  residual: s.residual === 'parallel' && (s.attention.kind === 'none' || s.encoderLayers !== undefined) ? 'pre_norm' : s.residual,
}));
