// MoE routing: top-k (with DeepSeek-V3's group limit), hashing, Expert Choice, the dispatch counting sort with
// Switch capacity, grouped and per-expert matmuls, the weighted combine, and Expert Choice's row gather/scatter.
import {
  allocLike, describe, dimAttr, formatShape, intAttr, numberAttr, requireFloat, requireInt, requireRank,
  type Kernel, type Tensor,
} from '../tensor.ts';

/** Orders NaN above every number, as torch.topk does, so the comparator stays consistent. */
const rankKey = (v: number): number => (Number.isNaN(v) ? Infinity : v);

/** Indices of the k largest values, largest first; ties go to the lower index. */
export function topkIndices(row: ArrayLike<number>, k: number): number[] {
  const idx = Array.from({ length: row.length }, (_, i) => i);
  idx.sort((a, b) => {
    const va = rankKey(row[a]!);
    const vb = rankKey(row[b]!);
    return va > vb ? -1 : va < vb ? 1 : a - b;
  });
  return idx.slice(0, k);
}

/**
 * DeepSeek-V3's group limit (HF DeepseekV3MoE.route_tokens_to_experts): experts form `groups` contiguous groups,
 * a group scores the sum of its two best scores, and the experts outside the `keep` best groups are masked to -∞
 * (transformers 5.17: masked_fill(~mask, float("-inf"))), so a masked expert never wins.
 */
export function groupLimitedScores(row: ArrayLike<number>, groups: number, keep: number): number[] {
  const size = row.length / groups;
  const groupScores = Array.from({ length: groups }, (_, g) => {
    const members = Array.from({ length: size }, (_v, i) => row[g * size + i]!);
    return topkIndices(members, Math.min(2, size)).reduce((s, i) => s + members[i]!, 0);
  });
  const chosen = new Set(topkIndices(groupScores, keep));
  return Array.from(row, (v, i) => (chosen.has(Math.floor(i / size)) ? v : -Infinity));
}

export { mulberry32, balancedHash, hashRouteTable } from '../../../compiler/ir/hash.ts';
import { hashRouteTable } from '../../../compiler/ir/hash.ts';
import { COIN_PERIOD, secondExpertCoins } from '../../../compiler/ir/coins.ts';

function checkIndex(i: number, n: number, what: string): void {
  if (!(i >= 0 && i < n)) throw new RangeError(`${what} ${i} is out of range for ${n}`);
}

/** Leading axes of two tensors that must agree (all but the last). */
function sameLeading(a: Tensor, b: Tensor, what: string): void {
  const la = a.shape.slice(0, -1);
  const lb = b.shape.slice(0, -1);
  if (a.shape.length === 0 || la.length !== lb.length || la.some((d, i) => d !== lb[i])) throw new Error(`${what}: ${describe(a)} and ${describe(b)} differ in their leading axes`);
}

export const routingKernels: Record<string, Kernel> = {
  topk: ([x], at) => {
    if (x!.shape.length === 0) throw new Error('topk needs at least one axis');
    const k = intAttr(at, 'k');
    const n = x!.shape[x!.shape.length - 1]!;
    if (k < 0 || k > n) throw new Error(`topk: k = ${k} is out of range for a last axis of ${n}`);
    const groups = intAttr(at, 'groups', 1);
    const keep = intAttr(at, 'topk_groups', groups);
    if (groups > 1 && (n % groups !== 0 || keep < 1 || keep > groups)) {
      throw new Error(`topk: ${n} experts do not split into ${groups} groups with ${keep} kept`);
    }
    const rows = n === 0 ? 0 : x!.data.length / n;
    const values = allocLike(x!, rows * k);
    const indices = new Int32Array(rows * k);
    for (let r = 0; r < rows; r++) {
      const raw = x!.data.subarray(r * n, (r + 1) * n);
      const row = groups > 1 ? groupLimitedScores(raw, groups, keep) : raw;
      topkIndices(row, k).forEach((i, j) => {
        values[r * k + j] = row[i]!;
        indices[r * k + j] = i;
      });
    }
    const shape = [...x!.shape.slice(0, -1), k];
    return [{ dtype: x!.dtype, shape, data: values }, { dtype: 'i32', shape, data: indices }];
  },
  // y[..., j] = x[..., indices[..., j]]
  gather_last: ([x, idx]) => {
    requireInt(idx!, 'gather_last indices');
    sameLeading(x!, idx!, 'gather_last');
    const n = x!.shape[x!.shape.length - 1]!;
    const k = idx!.shape[idx!.shape.length - 1]!;
    const out = allocLike(x!, idx!.data.length);
    for (let r = 0; k > 0 && r < idx!.data.length / k; r++) {
      for (let j = 0; j < k; j++) {
        const i = idx!.data[r * k + j]!;
        checkIndex(i, n, 'gather_last index');
        out[r * k + j] = x!.data[r * n + i]!;
      }
    }
    return [{ dtype: x!.dtype, shape: [...idx!.shape], data: out }];
  },
  hash_route: ([ids], at) => {
    requireInt(ids!, 'hash_route ids');
    const experts = intAttr(at, 'experts');
    const vocab = intAttr(at, 'vocab');
    if (experts < 1) throw new Error(`hash_route needs at least one expert, got ${experts}`);
    const table = hashRouteTable(typeof at.method === 'string' ? at.method : String(at.method), vocab, experts, intAttr(at, 'seed', 0));
    const out = Int32Array.from(ids!.data, (id) => {
      checkIndex(id, vocab, 'hash_route token id');
      return table[id]!;
    });
    return [{ dtype: 'i32', shape: [ids!.data.length, 1], data: out }];
  },
  expert_choice: ([probs], at) => {
    // Zhou et al. 2022: each expert takes its c best tokens, c = ceil(tokens · capacity_factor / experts), at most
    // floor(tokens · ceil(capacity_factor) / experts) so that all experts keep at most tokens · ceil(capacity_factor)
    // rows (the room the dispatch has) when the token count is below the expert count.
    requireFloat(probs!, 'expert_choice probs');
    requireRank(probs!, 2, 'expert_choice probs [tokens, experts]');
    const [T, E] = probs!.shape as [number, number];
    const cf = numberAttr(at, 'capacity_factor');
    const c = Math.min(T, Math.ceil((T * cf) / E), Math.floor((T * Math.ceil(cf)) / E));
    const weights = new Float32Array(T * E);
    const indices = new Int32Array(T * E).fill(-1);
    for (let e = 0; e < E; e++) {
      const column = Array.from({ length: T }, (_, t) => probs!.data[t * E + e]!);
      for (const t of topkIndices(column, c)) {
        weights[t * E + e] = column[t]!;
        indices[t * E + e] = e;
      }
    }
    return [{ dtype: probs!.dtype, shape: [T, E], data: weights }, { dtype: 'i32', shape: [T, E], data: indices }];
  },
  random_second: ([w, idx], at) => {
    // GShard Algorithm 1: keep the second expert when 2 · g2 / (g1 + g2) > a uniform coin.
    requireFloat(w!, 'random_second weights');
    requireInt(idx!, 'random_second indices');
    if (w!.shape.length !== 2 || w!.shape[1] !== 2 || idx!.shape[0] !== w!.shape[0] || idx!.shape[1] !== 2) {
      throw new Error(`random_second takes top-2 weights and indices [tokens, 2], got ${describe(w!)} and ${describe(idx!)}`);
    }
    const coins = secondExpertCoins(intAttr(at, 'seed', 0));
    const weights = allocLike(w!, w!.data.length);
    weights.set(w!.data);
    const indices = Int32Array.from(idx!.data);
    for (let t = 0; t < w!.shape[0]!; t++) {
      if (!((2 * w!.data[2 * t + 1]!) / (w!.data[2 * t]! + w!.data[2 * t + 1]!) > coins[t % COIN_PERIOD]!)) {
        weights[2 * t + 1] = 0;
        indices[2 * t + 1] = -1;
      }
    }
    return [{ dtype: w!.dtype, shape: [...w!.shape], data: weights }, { dtype: 'i32', shape: [...idx!.shape], data: indices }];
  },
  dispatch: ([x, idx], at, ctx) => {
    requireRank(x!, 2, 'dispatch x [tokens, d]');
    requireRank(idx!, 2, 'dispatch indices [tokens, k]');
    requireInt(idx!, 'dispatch indices');
    const E = intAttr(at, 'experts');
    const [T, k] = idx!.shape as [number, number];
    const d = x!.shape[1]!;
    if (x!.shape[0] !== T) throw new Error(`dispatch: x ${describe(x!)} has ${x!.shape[0]} tokens but indices ${describe(idx!)} has ${T}`);
    const rowsOut = T * intAttr(at, 'rows_per_token', k);
    const groupSize = at.group_size !== undefined ? dimAttr(at, 'group_size', ctx.sizes) : T;
    if (groupSize < 1 && T > 0) throw new Error(`dispatch: group_size must be positive, got ${groupSize}`);
    const capacity = at.capacity !== undefined ? intAttr(at, 'capacity') : undefined;
    if (capacity !== undefined && capacity < 1) throw new Error(`dispatch: capacity must be a positive number of rows per expert, got ${capacity}`);
    const factor = at.capacity_factor !== undefined ? numberAttr(at, 'capacity_factor') : undefined;
    const capacityOf = (groupTokens: number): number => capacity ?? (factor !== undefined ? Math.ceil((groupTokens * k * factor) / E) : Infinity);
    // Switch Transformer §2.2: within each group of tokens, an expert keeps its first `capacity` copies in token
    // order (token t ascending, then choice j ascending) and drops the rest; the last group may be shorter.
    const keep = new Uint8Array(T * k);
    for (let g0 = 0; g0 < T; g0 += groupSize) {
      const g1 = Math.min(T, g0 + groupSize);
      const cap = capacityOf(g1 - g0);
      const used = new Int32Array(E);
      for (let t = g0; t < g1; t++) {
        for (let j = 0; j < k; j++) {
          const e = idx!.data[t * k + j]!;
          if (e === -1) continue; // an empty choice (Expert Choice: expert e did not pick this token)
          checkIndex(e, E, 'dispatch expert index');
          if (used[e]! < cap) {
            used[e]!++;
            keep[t * k + j] = 1;
          }
        }
      }
    }
    // A stable counting sort of the kept copies by expert: offsets are the prefix sums of the counts.
    const counts = new Int32Array(E);
    for (let i = 0; i < T * k; i++) if (keep[i]) counts[idx!.data[i]!]!++;
    const offsets = new Int32Array(E + 1);
    for (let e = 0; e < E; e++) offsets[e + 1] = offsets[e]! + counts[e]!;
    if (offsets[E]! > rowsOut) throw new RangeError(`dispatch kept ${offsets[E]} rows but has room for ${rowsOut} (rows_per_token too small)`);
    const next = offsets.slice(0, E);
    const slots = new Int32Array(T * k).fill(-1);
    const rows = allocLike(x!, rowsOut * d);
    for (let t = 0; t < T; t++) {
      for (let j = 0; j < k; j++) {
        if (!keep[t * k + j]) continue;
        const row = next[idx!.data[t * k + j]!]!++;
        slots[t * k + j] = row;
        rows.set(x!.data.subarray(t * d, (t + 1) * d), row * d);
      }
    }
    return [{ dtype: x!.dtype, shape: [rowsOut, d], data: rows }, { dtype: 'i32', shape: [E + 1], data: offsets }, { dtype: 'i32', shape: [T, k], data: slots }];
  },
  // y[r] = rows[r] · w[e]ᵀ (+ b[e]) for offsets[e] ≤ r < offsets[e+1]; rows outside every expert's range stay zero.
  grouped_linear: ([rows, w, offsets, b]) => {
    requireFloat(rows!, 'grouped_linear rows');
    requireRank(rows!, 2, 'grouped_linear rows [n, in]');
    requireRank(w!, 3, 'grouped_linear weights [experts, out, in]');
    requireInt(offsets!, 'grouped_linear offsets');
    const [E, out, inp] = w!.shape as [number, number, number];
    const n = rows!.shape[0]!;
    if (rows!.shape[1] !== inp) throw new Error(`grouped_linear: weights ${describe(w!)} do not take rows ${describe(rows!)}`);
    if (offsets!.data.length !== E + 1) throw new Error(`grouped_linear: offsets ${describe(offsets!)} do not match ${E} experts (want [${E + 1}])`);
    for (let e = 0; e < E; e++) {
      if (!(offsets!.data[e]! >= 0 && offsets!.data[e]! <= offsets!.data[e + 1]! && offsets!.data[e + 1]! <= n)) {
        throw new RangeError(`grouped_linear: offsets [${Array.from(offsets!.data).join(', ')}] are not non-decreasing within 0 … ${n}`);
      }
    }
    if (b && !(b.shape.length === 2 && b.shape[0] === E && b.shape[1] === out)) throw new Error(`grouped_linear: bias ${describe(b)} does not match ${formatShape([E, out])}`);
    const y = new Float32Array(n * out);
    for (let e = 0; e < E; e++) {
      for (let r = offsets!.data[e]!; r < offsets!.data[e + 1]!; r++) {
        for (let o = 0; o < out; o++) {
          let acc = 0;
          const wo = (e * out + o) * inp;
          for (let q = 0; q < inp; q++) acc += rows!.data[r * inp + q]! * w!.data[wo + q]!;
          y[r * out + o] = acc + (b ? b.data[e * out + o]! : 0);
        }
      }
    }
    return [{ dtype: rows!.dtype, shape: [n, out], data: y }];
  },
  // y[t] = Σ_j weights[t, j] · rows[slots[t, j]], skipping slots of -1, accumulated in float64.
  combine: ([rows, slots, weights]) => {
    requireRank(rows!, 2, 'combine rows [n, d]');
    requireRank(slots!, 2, 'combine slots [tokens, k]');
    requireInt(slots!, 'combine slots');
    const [n, d] = rows!.shape as [number, number];
    const [T, k] = slots!.shape as [number, number];
    if (weights!.data.length !== T * k) throw new Error(`combine: weights ${describe(weights!)} do not match slots ${describe(slots!)}`);
    const y = new Float32Array(T * d);
    const acc = new Float64Array(d);
    for (let t = 0; t < T; t++) {
      acc.fill(0);
      for (let j = 0; j < k; j++) {
        const r = slots!.data[t * k + j]!;
        if (r === -1) continue;
        checkIndex(r, n, 'combine slot');
        const wt = weights!.data[t * k + j]!;
        for (let c = 0; c < d; c++) acc[c] += wt * rows!.data[r * d + c]!;
      }
      y.set(acc, t * d);
    }
    return [{ dtype: rows!.dtype, shape: [T, d], data: y }];
  },
  // y[e] = x[e] · w[e]ᵀ with x [experts, n, in], w [experts, out, in].
  expert_linear: ([x, w]) => {
    requireFloat(x!, 'expert_linear x');
    requireRank(x!, 3, 'expert_linear x [experts, n, in]');
    requireRank(w!, 3, 'expert_linear weights [experts, out, in]');
    const [E, n, inp] = x!.shape as [number, number, number];
    const out = w!.shape[1]!;
    if (w!.shape[0] !== E || w!.shape[2] !== inp) throw new Error(`expert_linear: weights ${describe(w!)} do not match ${describe(x!)}`);
    const y = new Float32Array(E * n * out);
    for (let e = 0; e < E; e++) {
      for (let r = 0; r < n; r++) {
        for (let o = 0; o < out; o++) {
          let acc = 0;
          for (let q = 0; q < inp; q++) acc += x!.data[(e * n + r) * inp + q]! * w!.data[(e * out + o) * inp + q]!;
          y[(e * n + r) * out + o] = acc;
        }
      }
    }
    return [{ dtype: x!.dtype, shape: [E, n, out], data: y }];
  },
  // y[i, j, :] = x[indices[i, j], :]
  gather_rows: ([x, idx]) => {
    requireRank(x!, 2, 'gather_rows x [rows, d]');
    requireInt(idx!, 'gather_rows indices');
    const [n, d] = x!.shape as [number, number];
    const out = allocLike(x!, idx!.data.length * d);
    idx!.data.forEach((r, i) => {
      checkIndex(r, n, 'gather_rows index');
      out.set(x!.data.subarray(r * d, (r + 1) * d), i * d);
    });
    return [{ dtype: x!.dtype, shape: [...idx!.shape, d], data: out }];
  },
  // y[indices[i, j], :] += x[i, j, :] into `rows` zero rows, accumulated in float64.
  scatter_add_rows: ([x, idx], at, ctx) => {
    requireFloat(x!, 'scatter_add_rows x');
    requireInt(idx!, 'scatter_add_rows indices');
    const lead = x!.shape.slice(0, -1);
    if (lead.length !== idx!.shape.length || lead.some((v, i) => v !== idx!.shape[i])) throw new Error(`scatter_add_rows: x ${describe(x!)} does not match indices ${describe(idx!)}`);
    const d = x!.shape[x!.shape.length - 1]!;
    const rows = dimAttr(at, 'rows', ctx.sizes);
    const acc = new Float64Array(rows * d);
    idx!.data.forEach((r, i) => {
      checkIndex(r, rows, 'scatter_add_rows index');
      for (let c = 0; c < d; c++) acc[r * d + c] += x!.data[i * d + c]!;
    });
    return [{ dtype: x!.dtype, shape: [rows, d], data: Float32Array.from(acc) }];
  },
};
