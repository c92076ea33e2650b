// Mixture-of-experts layers in graph ops: route → select → dispatch → expert compute → combine.
import type { Dim } from '../ir/types.ts';
import type { FfnSpec, MoeSpec } from '../spec/types.ts';
import type { GraphBuilder } from './builder.ts';
import { lowerFfn } from './ffn.ts';

/** What a MoE layer hands back for the model-level losses and outputs. */
export interface RouterRecord {
  logits: string;
  probs?: string;
  indices?: string;
  spec: MoeSpec;
  stack: string;
}

export interface MoeContext {
  /** Token ids [batch, len], for hash and vocabulary routers. */
  ids: string;
  len: Dim;
  dModel: number;
  vocab: number;
  stack: string;
  /** Expert parallelism: ranks each holding experts / ranks experts (absent or 1: one device holds all). */
  ranks?: number;
  /** Switch capacity counted within groups of this many tokens (absent: all tokens of the batch). */
  capacityGroup?: Dim;
}

/** The experts' FFN over rows sorted by expert: one grouped matmul per projection. */
function groupedExperts(b: GraphBuilder, rows: string, offsets: string, e: FfnSpec, prefix: string, experts: number, dModel: number, perToken: number, ranks = 1): string {
  // Under expert parallelism a rank declares its experts / ranks experts: its slice of the stacked weights.
  const local = experts / ranks;
  const attrs: Record<string, number> = ranks > 1 ? { experts, per_token: perToken, ranks } : { experts, per_token: perToken };
  const proj = (x: string, name: string, out: number, inp: number) => {
    const ins = [x, b.param(`${prefix}.${name}`, [local, out, inp], attrs), offsets];
    if (e.bias) ins.push(b.param(`${prefix}.${name}_bias`, [local, out], attrs));
    return b.op('grouped_linear', ins);
  };
  const up = proj(rows, 'up', e.hidden, dModel);
  const h = e.gated ? b.op('mul', [b.op(e.act, [proj(rows, 'gate', e.hidden, dModel)]), up]) : b.op(e.act, [up]);
  return proj(h, 'down', dModel, e.hidden);
}

/** Dense per-expert compute over fixed buffers [experts, n, d] (Soft MoE slots). */
function denseExperts(b: GraphBuilder, x: string, e: FfnSpec, prefix: string, experts: number, dModel: number): string {
  // Every token contributes to every slot, so all experts count as active for it.
  const proj = (h: string, name: string, out: number, inp: number) => {
    const y = b.op('expert_linear', [h, b.param(`${prefix}.${name}`, [experts, out, inp], { experts, per_token: experts })]);
    if (!e.bias) return y;
    const bias = b.param(`${prefix}.${name}_bias`, [experts, out], { experts, per_token: experts });
    return b.op('add', [y, b.op('reshape', [bias], { shape: [experts, 1, out] })]);
  };
  const up = proj(x, 'up', e.hidden, dModel);
  const h = e.gated ? b.op('mul', [b.op(e.act, [proj(x, 'gate', e.hidden, dModel)]), up]) : b.op(e.act, [up]);
  return proj(h, 'down', dModel, e.hidden);
}

export function lowerMoe(b: GraphBuilder, x: string, spec: MoeSpec, prefix: string, ctx: MoeContext): { y: string; router: RouterRecord } {
  const { dModel } = ctx;
  const E = spec.experts;
  const tokens = `batch*${ctx.len}`;
  const x2 = b.op('reshape', [x], { shape: [tokens, dModel] });
  const routerWeight = () => b.param(`${prefix}.router.weight`, [E, dModel]);
  const r = spec.router;
  let weights: string;
  let indices: string;
  let logits: string;
  let probs: string | undefined;
  let rowsPerToken: number | undefined;
  let dispatched: string | undefined;

  if (r.kind === 'soft') return lowerSoftMoe(b, x, spec, prefix, ctx, r.slotsPerExpert);

  if (r.kind === 'hash' || r.kind === 'vocab') {
    indices = b.op('hash_route', [ctx.ids], { experts: E, vocab: ctx.vocab, method: r.kind === 'vocab' ? 'random' : r.method, seed: r.seed });
    weights = b.op('expand', [b.op('const', [], { value: 1, dtype: 'f32' })], { shape: [tokens, 1] });
    logits = indices;
  } else {
    const ins = [x2, routerWeight()];
    if (r.kind === 'softmax' && r.bias) ins.push(b.param(`${prefix}.router.bias`, [E]));
    logits = b.op('linear', ins);
    if (r.kind === 'softmax') {
      probs = b.op('softmax', [logits], { axis: -1 });
      [weights, indices] = b.opN('topk', [probs], 2, { k: spec.topK }) as [string, string];
      // Mixtral renormalises the k selected probabilities; Switch and OLMoE keep them as they are.
      if (r.normalize && spec.topK > 1) weights = b.op('div', [weights, b.op('reduce_sum', [weights], { axis: -1, keepdims: true })]);
      // GShard: the second expert only when 2 · g2 / (g1 + g2) beats a coin. The losses and expert_indices keep the top-2.
      if (r.second === 'random') [weights, dispatched] = b.opN('random_second', [weights, indices], 2, { seed: r.seed }) as [string, string];
    } else if (r.kind === 'sigmoid') {
      const scores = b.op('sigmoid', [logits]);
      // DeepSeek-V3 §2.1.2: the bias only steers selection; the weights come from the unbiased scores. It is
      // adjusted by a balancing rule, not by gradients, so it is a buffer and not counted as a parameter.
      const select = r.scoreBias ? b.op('add', [scores, b.param(`${prefix}.router.score_bias`, [E], { buffer: true })]) : scores;
      indices = b.opN('topk', [select], 2, { k: spec.topK, groups: r.groups, topk_groups: r.topkGroups })[1]!;
      weights = b.op('gather_last', [scores, indices]);
      if (r.normalize) {
        const sum = b.op('add', [b.op('reduce_sum', [weights], { axis: -1, keepdims: true }), b.op('const', [], { value: 1e-20, dtype: 'f32' })]);
        weights = b.op('div', [weights, sum]);
      }
      if (r.scale !== 1) weights = b.op('scale', [weights], { factor: r.scale });
    } else {
      // CoLT5 routes to one heavy expert, where a softmax over experts is 1 for every token: it scores with a sigmoid.
      probs = r.score === 'softmax' ? b.op('softmax', [logits], { axis: -1 }) : b.op('sigmoid', [logits]);
      [weights, indices] = b.opN('expert_choice', [probs], 2, { capacity_factor: r.capacityFactor }) as [string, string];
      rowsPerToken = Math.ceil(r.capacityFactor);
      probs = undefined;
    }
  }

  const dispatchAttrs: Record<string, number | string> = { experts: E };
  if (spec.capacity?.perExpert !== undefined) dispatchAttrs.capacity = spec.capacity.perExpert;
  else if (spec.capacity?.factor !== undefined) dispatchAttrs.capacity_factor = spec.capacity.factor;
  if (rowsPerToken !== undefined) dispatchAttrs.rows_per_token = rowsPerToken;
  if (spec.capacity && ctx.capacityGroup !== undefined) dispatchAttrs.group_size = ctx.capacityGroup;
  const [rows, offsets, slots] = b.opN('dispatch', [x2, dispatched ?? indices], 3, dispatchAttrs) as [string, string, string];
  // Experts a token uses on average: k for top-k routers, the capacity factor for Expert Choice, one for hashing.
  const perToken = r.kind === 'expert_choice' ? r.capacityFactor : r.kind === 'hash' || r.kind === 'vocab' ? 1 : spec.topK;
  // Lowered for expert parallelism (even on 1 rank, where the exchanges are local copies: a 1-GPU check of the path).
  const ranks = ctx.ranks ?? 1;
  let expertOut: string;
  if (ctx.ranks !== undefined) {
    // Expert parallelism: rows travel to the rank holding their expert and their results come back in place.
    const [recv, recvOffsets, counts] = b.opN('all_to_all_dispatch', [rows, offsets], 3, { experts: E, ranks }) as [string, string, string];
    const out = groupedExperts(b, recv, recvOffsets, spec.expert, `${prefix}.experts`, E, dModel, perToken, ranks);
    expertOut = b.op('all_to_all_combine', [out, offsets, counts], { experts: E, ranks });
  } else {
    expertOut = groupedExperts(b, rows, offsets, spec.expert, `${prefix}.experts`, E, dModel, perToken);
  }
  let y = b.op('combine', [expertOut, slots, weights]);
  y = addShared(b, x2, y, spec, prefix, dModel);
  return {
    y: b.op('reshape', [y], { shape: ['batch', ctx.len, dModel] }),
    router: { logits, probs: r.kind === 'softmax' ? probs : undefined, indices, spec, stack: ctx.stack },
  };
}

function addShared(b: GraphBuilder, x2: string, y: string, spec: MoeSpec, prefix: string, dModel: number): string {
  if (!spec.shared) return y;
  const shared = { ...spec.shared, hidden: spec.shared.hidden * spec.sharedCount };
  let s = lowerFfn(b, x2, shared, `${prefix}.shared`, dModel);
  // Qwen2-MoE: the shared expert's output is scaled by sigmoid(x · w_gate), w_gate [1, d].
  if (spec.sharedGate) s = b.op('mul', [s, b.op('sigmoid', [b.op('linear', [x2, b.param(`${prefix}.shared_gate.weight`, [1, dModel])])])]);
  return b.op('add', [y, s]);
}

/**
 * Soft MoE (Puigcerver et al. 2023, §2.1), per sequence: logits = x·Φ; dispatch weights D = softmax over tokens,
 * combine weights C = softmax over slots; slots = Dᵀx; y = C · experts(slots).
 */
function lowerSoftMoe(b: GraphBuilder, x: string, spec: MoeSpec, prefix: string, ctx: MoeContext, slotsPerExpert: number): { y: string; router: RouterRecord } {
  const { dModel } = ctx;
  const E = spec.experts;
  const n = E * slotsPerExpert;
  const logits = b.op('linear', [x, b.param(`${prefix}.router.weight`, [n, dModel])]);
  const dispatchW = b.op('softmax', [logits], { axis: 1 });
  const combineW = b.op('softmax', [logits], { axis: 2 });
  const slotsIn = b.op('matmul', [b.op('transpose', [dispatchW], { perm: [0, 2, 1] }), x]);
  const perExpert = b.op('reshape', [
    b.op('transpose', [b.op('reshape', [slotsIn], { shape: ['batch', E, slotsPerExpert, dModel] })], { perm: [1, 0, 2, 3] }),
  ], { shape: [E, `batch*${slotsPerExpert}`, dModel] });
  const out = denseExperts(b, perExpert, spec.expert, `${prefix}.experts`, E, dModel);
  const back = b.op('reshape', [
    b.op('transpose', [b.op('reshape', [out], { shape: [E, 'batch', slotsPerExpert, dModel] })], { perm: [1, 0, 2, 3] }),
  ], { shape: ['batch', n, dModel] });
  let y = b.op('matmul', [combineW, back]);
  if (spec.shared) {
    const x2 = b.op('reshape', [x], { shape: [`batch*${ctx.len}`, dModel] });
    const s = addShared(b, x2, b.op('reshape', [y], { shape: [`batch*${ctx.len}`, dModel] }), spec, prefix, dModel);
    y = b.op('reshape', [s], { shape: ['batch', ctx.len, dModel] });
  }
  return { y, router: { logits, spec, stack: ctx.stack } };
}
