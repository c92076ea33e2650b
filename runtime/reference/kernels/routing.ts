// MoE routing: top-k (with DeepSeek-V3's group limit), hashing, Expert Choice, the dispatch counting sort with
// Switch capacity, grouped and per-expert matmuls, and the weighted combine.
import { evalDim } from '../../../compiler/ir/dims.ts';
import type { Dim } from '../../../compiler/ir/types.ts';
import { f32, i32, type Kernel } from '../tensor.ts';

/** Indices of the k largest values, largest first; ties go to the lower index. */
export function topkIndices(row: ArrayLike<number>, k: number): number[] {
  const idx = Array.from({ length: row.length }, (_, i) => i);
  idx.sort((a, b) => row[b]! - row[a]! || a - b);
  return idx.slice(0, k);
}

/** mulberry32: a small seeded PRNG, so hash routing is reproducible everywhere. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Hash Layers' balanced assignment: a seeded permutation of the vocabulary dealt round-robin to experts. */
export function balancedHash(vocab: number, experts: number, seed: number): Int32Array {
  const perm = Array.from({ length: vocab }, (_, i) => i);
  const rand = mulberry32(seed);
  for (let i = vocab - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [perm[i], perm[j]] = [perm[j]!, perm[i]!];
  }
  const table = new Int32Array(vocab);
  perm.forEach((id, pos) => (table[id] = pos % experts));
  return table;
}

export const routingKernels: Record<string, Kernel> = {
  topk: ([x], at) => {
    const k = at.k as number;
    const n = x!.shape[x!.shape.length - 1]!;
    const rows = x!.data.length / n;
    const groups = (at.groups as number | undefined) ?? 1;
    const keep = (at.topk_groups as number | undefined) ?? groups;
    const values = new Float32Array(rows * k);
    const indices = new Int32Array(rows * k);
    for (let r = 0; r < rows; r++) {
      let row: ArrayLike<number> = x!.data.subarray(r * n, (r + 1) * n);
      if (groups > 1) {
        // DeepSeek-V3: a group scores the sum of its two best experts; experts outside the best topk_groups
        // groups are masked to 0 (as HF's masked_fill(…, 0.0)) before the top-k.
        const size = n / groups;
        const scores = Array.from({ length: groups }, (_, g) => {
          const best = topkIndices(Array.from(row).slice(g * size, (g + 1) * size), Math.min(2, size));
          return best.reduce((s, i) => s + row[g * size + i]!, 0);
        });
        const chosen = new Set(topkIndices(scores, keep));
        row = Array.from(row, (v, i) => (chosen.has(Math.floor(i / size)) ? v : 0));
      }
      topkIndices(row, k).forEach((i, j) => {
        values[r * k + j] = row[i]!;
        indices[r * k + j] = i;
      });
    }
    const shape = [...x!.shape.slice(0, -1), k];
    return [f32(shape, values), i32(shape, indices)];
  },
  gather_last: ([x, idx]) => {
    const n = x!.shape[x!.shape.length - 1]!;
    const k = idx!.shape[idx!.shape.length - 1]!;
    const out = new Float32Array(idx!.data.length);
    for (let r = 0; r < idx!.data.length / k; r++) for (let j = 0; j < k; j++) out[r * k + j] = x!.data[r * n + idx!.data[r * k + j]!]!;
    return [f32([...idx!.shape], out)];
  },
  hash_route: ([ids], at) => {
    const experts = at.experts as number;
    const table = at.method === 'modulo' ? undefined : balancedHash(at.vocab as number, experts, at.seed as number);
    const out = Int32Array.from(ids!.data, (id) => (table ? table[id]! : id % experts));
    return [i32([ids!.data.length, 1], out)];
  },
  expert_choice: ([probs], at) => {
    // Zhou et al. 2022: each expert takes its c best tokens, c = ceil(tokens · capacity_factor / experts).
    const [T, E] = probs!.shape as [number, number];
    const c = Math.min(T, Math.ceil((T * (at.capacity_factor as number)) / E));
    const weights = new Float32Array(T * E);
    const indices = new Int32Array(T * E).fill(-1);
    for (let e = 0; e < E; e++) {
      const column = Array.from({ length: T }, (_, t) => probs!.data[t * E + e]!);
      for (const t of topkIndices(column, c)) {
        weights[t * E + e] = column[t]!;
        indices[t * E + e] = e;
      }
    }
    return [f32([T, E], weights), i32([T, E], indices)];
  },
  dispatch: ([x, idx], at, ctx) => {
    const E = at.experts as number;
    const [T, k] = idx!.shape as [number, number];
    const d = x!.shape[1]!;
    const rowsOut = ctx.outShapes[0]![0]!;
    const groupSize = at.group_size !== undefined ? evalDim(at.group_size as Dim, ctx.sizes) : T;
    const capacityOf = (groupTokens: number): number => {
      if (typeof at.capacity === 'number') return at.capacity;
      if (typeof at.capacity_factor === 'number') return Math.ceil((groupTokens * k * at.capacity_factor) / E);
      return Infinity;
    };
    // Switch §2.2: within each group, an expert keeps its first `capacity` copies in token order.
    const slots = new Int32Array(T * k).fill(-1);
    const keep = new Uint8Array(T * k);
    for (let g0 = 0; g0 < T; g0 += groupSize) {
      const g1 = Math.min(T, g0 + groupSize);
      const cap = capacityOf(g1 - g0);
      const used = new Int32Array(E);
      for (let t = g0; t < g1; t++) {
        for (let j = 0; j < k; j++) {
          const e = idx!.data[t * k + j]!;
          if (e < 0) continue;
          if (e >= E) throw new RangeError(`expert index ${e} out of range for ${E} experts`);
          if (used[e]! < cap) {
            used[e]!++;
            keep[t * k + j] = 1;
          }
        }
      }
    }
    const counts = new Int32Array(E);
    for (let i = 0; i < T * k; i++) if (keep[i]) counts[idx!.data[i]!]!++;
    const offsets = new Int32Array(E + 1);
    for (let e = 0; e < E; e++) offsets[e + 1] = offsets[e]! + counts[e]!;
    if (offsets[E]! > rowsOut) throw new RangeError(`dispatch produced ${offsets[E]} rows but has room for ${rowsOut}`);
    const next = offsets.slice(0, E);
    const rows = new Float32Array(rowsOut * d);
    for (let t = 0; t < T; t++) {
      for (let j = 0; j < k; j++) {
        if (!keep[t * k + j]) continue;
        const e = idx!.data[t * k + j]!;
        const row = next[e]!++;
        slots[t * k + j] = row;
        rows.set(x!.data.subarray(t * d, (t + 1) * d), row * d);
      }
    }
    return [f32([rowsOut, d], rows), i32([E + 1], offsets), i32([T, k], slots)];
  },
  grouped_linear: ([rows, w, offsets, b]) => {
    const [E, out, inp] = w!.shape as [number, number, number];
    const n = rows!.shape[0]!;
    const y = new Float32Array(n * out);
    for (let e = 0; e < E; e++) {
      for (let r = offsets!.data[e]!; r < offsets!.data[e + 1]!; r++) {
        for (let o = 0; o < out; o++) {
          let acc = b ? b.data[e * out + o]! : 0;
          const wo = (e * out + o) * inp;
          for (let q = 0; q < inp; q++) acc += rows!.data[r * inp + q]! * w!.data[wo + q]!;
          y[r * out + o] = acc;
        }
      }
    }
    return [f32([n, out], y)];
  },
  combine: ([rows, slots, weights]) => {
    const d = rows!.shape[1]!;
    const [T, k] = slots!.shape as [number, number];
    const y = new Float32Array(T * d);
    for (let t = 0; t < T; t++) {
      for (let j = 0; j < k; j++) {
        const r = slots!.data[t * k + j]!;
        if (r < 0) continue;
        const wt = weights!.data[t * k + j]!;
        for (let c = 0; c < d; c++) y[t * d + c] += wt * rows!.data[r * d + c]!;
      }
    }
    return [f32([T, d], y)];
  },
  expert_linear: ([x, w]) => {
    const [E, n, inp] = x!.shape as [number, number, number];
    const out = w!.shape[1]!;
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
    return [f32([E, n, out], y)];
  },
  gather_rows: ([x, idx]) => {
    const d = x!.shape[x!.shape.length - 1]!;
    const out = new Float32Array(idx!.data.length * d);
    idx!.data.forEach((r, i) => out.set(x!.data.subarray(r * d, (r + 1) * d), i * d));
    return [f32([...idx!.shape, d], out)];
  },
  scatter_add_rows: ([x, idx], at, ctx) => {
    const d = x!.shape[x!.shape.length - 1]!;
    const rows = evalDim(at.rows as Dim, ctx.sizes);
    const out = new Float32Array(rows * d);
    idx!.data.forEach((r, i) => {
      for (let c = 0; c < d; c++) out[r * d + c] += x!.data[i * d + c]!;
    });
    return [f32([rows, d], out)];
  },
};
