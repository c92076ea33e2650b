// Attention in [batch, len, heads, dim] layout (GQA by head groups, causal mask, additive bias), rotary
// embeddings, and T5's relative position buckets.
import { evalDim } from '../../../compiler/ir/dims.ts';
import type { Dim } from '../../../compiler/ir/types.ts';
import { f32, type Kernel } from '../tensor.ts';

/**
 * T5's `_relative_position_bucket` (Raffel et al. 2020; HF modeling_t5.py): exact buckets for small distances,
 * log-spaced up to max_distance. The log is taken in float32 as PyTorch does, then truncated.
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
  attention: ([q, k, v, bias], at) => {
    const [B, Sq, H, D] = q!.shape as [number, number, number, number];
    const [, Sk, Hk] = k!.shape as [number, number, number];
    const Dv = v!.shape[3]!;
    const group = H / Hk;
    const scale = at.scale as number;
    const causal = at.causal === true;
    const out = new Float32Array(B * Sq * H * Dv);
    const scores = new Float64Array(Sk);
    // Bias is [1 or B, 1 or H, Sq, Sk]; broadcast the leading axes.
    const bb = bias ? bias.shape[0]! : 0;
    const bh = bias ? bias.shape[1]! : 0;
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
            if (bias) s += bias.data[(((bb === 1 ? 0 : b) * bh + (bh === 1 ? 0 : h)) * Sq + i) * Sk + j]!;
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
    return [f32([B, Sq, H, Dv], out)];
  },
  // RoPE (Su et al. 2021) as Hugging Face computes it: inv_freq and the angles in float32.
  rope: ([x], at) => {
    const [B, S, H, D] = x!.shape as [number, number, number, number];
    const r = at.rotary_dim as number;
    const theta = at.theta as number;
    const interleaved = at.interleaved === true;
    const half = r / 2;
    const f = Math.fround;
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
    return [f32([B, S, H, D], out)];
  },
  relative_bias: ([table], at, ctx) => {
    const [buckets, H] = table!.shape as [number, number];
    const q = evalDim(at.q_len as Dim, ctx.sizes);
    const k = evalDim(at.k_len as Dim, ctx.sizes);
    const out = new Float32Array(H * q * k);
    for (let i = 0; i < q; i++) {
      for (let j = 0; j < k; j++) {
        const bucket = relativeBucket(j - i, at.bidirectional === true, buckets, at.max_distance as number);
        for (let h = 0; h < H; h++) out[(h * q + i) * k + j] = table!.data[bucket * H + h]!;
      }
    }
    return [f32([1, H, q, k], out)];
  },
};
