// Attention in [batch, len, heads, dim] layout (GQA by head groups, causal mask, additive bias), rotary
// embeddings, and T5's relative position buckets.
import {
  broadcastIndex, describe, dimAttr, intAttr, numberAttr, requireFloat, requireRank, type Kernel,
} from '../tensor.ts';

/**
 * T5's `_relative_position_bucket` (Raffel et al. 2020; HF modeling_t5.py), rel = key position - query position:
 *   bidirectional: buckets /= 2; ret += (rel > 0) · buckets; n = |rel|     else: n = max(-rel, 0)
 *   max_exact = buckets / 2; n < max_exact → ret + n
 *   else ret + min(buckets - 1, max_exact + ⌊ln(n / max_exact) / ln(max_distance / max_exact) · (buckets - max_exact)⌋)
 * Every step of the log branch is rounded to float32 as PyTorch computes it, so the bucket boundaries are HF's.
 */
export function relativeBucket(relative: number, bidirectional: boolean, numBuckets: number, maxDistance: number): number {
  let buckets = numBuckets;
  let ret = 0;
  let n: number;
  if (bidirectional) {
    buckets = Math.floor(buckets / 2);
    if (relative > 0) ret += buckets;
    n = Math.abs(relative);
  } else {
    n = Math.max(-relative, 0);
  }
  const maxExact = Math.floor(buckets / 2);
  if (n < maxExact) return ret + n;
  const f = Math.fround;
  const large = maxExact + Math.trunc(f(f(f(Math.log(f(n / maxExact))) / f(Math.log(maxDistance / maxExact))) * (buckets - maxExact)));
  return ret + Math.min(large, buckets - 1);
}

export const attentionKernels: Record<string, Kernel> = {
  // y = softmax(scale · q·kᵀ + bias [+ causal mask]) · v per (batch, head); scores, softmax and the weighted sum
  // of v in float64. The causal mask is aligned to the bottom right (query i sees keys j ≤ i + k_len - q_len), which
  // is the usual top-left mask when q_len = k_len and the right one for queries that continue a cached prefix.
  // A query that sees no key at all (every score -∞) gets NaN, as softmax of an all -∞ row does in PyTorch.
  attention: ([q, k, v, bias], at) => {
    for (const [t, name] of [[q, 'q'], [k, 'k'], [v, 'v']] as const) {
      requireFloat(t!, `attention ${name}`);
      requireRank(t!, 4, `attention ${name} [batch, len, heads, head_dim]`);
    }
    const [B, Sq, H, D] = q!.shape as [number, number, number, number];
    const [Bk, Sk, Hk, Dk] = k!.shape as [number, number, number, number];
    const Dv = v!.shape[3]!;
    if (Bk !== B || Dk !== D) throw new Error(`attention k ${describe(k!)} does not match q ${describe(q!)}`);
    if (v!.shape[0] !== B || v!.shape[1] !== Sk || v!.shape[2] !== Hk) throw new Error(`attention v ${describe(v!)} does not match k ${describe(k!)}`);
    if (Hk === 0 || H % Hk !== 0) throw new Error(`attention: kv heads (${Hk}) do not divide query heads (${H})`);
    // GQA (Ainslie et al. 2023): query head h reads kv head ⌊h / (H / Hk)⌋, as HF's repeat_kv.
    const group = H / Hk;
    const scale = numberAttr(at, 'scale');
    const causal = at.causal === true;
    const biasAt = bias ? broadcastIndex(bias.shape, [B, H, Sq, Sk]) : undefined;
    const out = new Float32Array(B * Sq * H * Dv);
    const scores = new Float64Array(Sk);
    for (let b = 0; b < B; b++) {
      for (let h = 0; h < H; h++) {
        const hk = Math.floor(h / group);
        for (let i = 0; i < Sq; i++) {
          let max = -Infinity;
          for (let j = 0; j < Sk; j++) {
            if (causal && j > i + (Sk - Sq)) {
              scores[j] = -Infinity;
              continue;
            }
            let s = 0;
            const qo = ((b * Sq + i) * H + h) * D;
            const ko = ((b * Sk + j) * Hk + hk) * D;
            for (let d = 0; d < D; d++) s += q!.data[qo + d]! * k!.data[ko + d]!;
            s *= scale;
            if (biasAt) s += bias!.data[biasAt[((b * H + h) * Sq + i) * Sk + j]!]!;
            scores[j] = s;
            if (s > max) max = s;
          }
          let sum = 0;
          for (let j = 0; j < Sk; j++) {
            scores[j] = scores[j] === -Infinity ? 0 : Math.exp(scores[j]! - max);
            sum += scores[j]!;
          }
          const oo = ((b * Sq + i) * H + h) * Dv;
          for (let d = 0; d < Dv; d++) {
            let acc = 0;
            for (let j = 0; j < Sk; j++) acc += scores[j]! * v!.data[((b * Sk + j) * Hk + hk) * Dv + d]!;
            out[oo + d] = acc / sum;
          }
        }
      }
    }
    return [{ dtype: q!.dtype, shape: [B, Sq, H, Dv], data: out }];
  },
  // RoPE (Su et al. 2021) as Hugging Face computes it: inv_freq and the angles in float32.
  rope: ([x], at) => {
    requireFloat(x!, 'the input of rope');
    requireRank(x!, 4, 'the input of rope [batch, seq, heads, head_dim]');
    const [B, S, H, D] = x!.shape as [number, number, number, number];
    const r = intAttr(at, 'rotary_dim');
    const theta = numberAttr(at, 'theta');
    if (r < 0 || r % 2 !== 0 || r > D) throw new Error(`rope: rotary_dim ${r} must be even and at most head_dim ${D}`);
    const interleaved = at.interleaved === true;
    const half = r / 2;
    const f = Math.fround;
    // inv_freq = 1 / theta^(arange(0, r, 2) / r), every step rounded to float32 as torch does; then the angle
    // pos · inv_freq and its cos and sin are rounded to float32 too (HF computes them in float32, autocast off).
    const invFreq = Float32Array.from({ length: half }, (_, i) => f(1 / f(theta ** f((2 * i) / r))));
    const out = Float32Array.from(x!.data);
    for (let s = 0; s < S; s++) {
      const cos = new Float32Array(half);
      const sin = new Float32Array(half);
      for (let i = 0; i < half; i++) {
        const angle = f(s * invFreq[i]!);
        cos[i] = Math.cos(angle);
        sin[i] = Math.sin(angle);
      }
      for (let b = 0; b < B; b++) {
        for (let h = 0; h < H; h++) {
          const o = ((b * S + s) * H + h) * D;
          for (let i = 0; i < half; i++) {
            // Halves (x_i, x_{i+r/2}) for Llama/Mixtral; adjacent pairs (x_2i, x_2i+1) for GPT-J/DeepSeek.
            const ia = interleaved ? o + 2 * i : o + i;
            const ib = interleaved ? o + 2 * i + 1 : o + i + half;
            const a = x!.data[ia]!;
            const c = x!.data[ib]!;
            out[ia] = a * cos[i]! - c * sin[i]!;
            out[ib] = c * cos[i]! + a * sin[i]!;
          }
        }
      }
    }
    return [{ dtype: x!.dtype, shape: [B, S, H, D], data: out }];
  },
  // bias[0, h, i, j] = table[bucket(j - i), h]: key position minus query position (HF T5's compute_bias).
  relative_bias: ([table], at, ctx) => {
    requireFloat(table!, 'the relative bias table');
    requireRank(table!, 2, 'the relative bias table [buckets, heads]');
    const [buckets, H] = table!.shape as [number, number];
    const q = dimAttr(at, 'q_len', ctx.sizes);
    const k = dimAttr(at, 'k_len', ctx.sizes);
    const maxDistance = intAttr(at, 'max_distance');
    const out = new Float32Array(H * q * k);
    for (let i = 0; i < q; i++) {
      for (let j = 0; j < k; j++) {
        const bucket = relativeBucket(j - i, at.bidirectional === true, buckets, maxDistance);
        for (let h = 0; h < H; h++) out[(h * q + i) * k + j] = table!.data[bucket * H + h]!;
      }
    }
    return [{ dtype: table!.dtype, shape: [1, H, q, k], data: out }];
  },
};
