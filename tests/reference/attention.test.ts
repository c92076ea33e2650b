// Attention (causal, GQA, additive bias), RoPE and T5's relative position buckets.
import { describe, expect, it } from 'vitest';
import type { Attr } from '../../compiler/ir/types.ts';
import { kernels, mulberry32, relativeBucket, tensorOf, type Tensor } from '../../runtime/reference/index.ts';

const run = (op: string, ins: Tensor[], attrs: Record<string, Attr>, sizes: Record<string, number> = {}): Tensor => kernels[op]!(ins, attrs, { sizes, outShapes: [] })[0]!;
const f32 = (shape: number[], v: number[]) => tensorOf('f32', shape, v);
const close = (got: ArrayLike<number>, want: ArrayLike<number>, digits = 6) => {
  expect(got).toHaveLength(want.length);
  Array.from(got).forEach((g, i) => expect(g, `element ${i}`).toBeCloseTo(want[i]!, digits));
};

describe('attention: softmax(scale·q·kᵀ + bias [+ causal]) · v, [batch, len, heads, dim]', () => {
  // One head of width 1: q = [1, 1], k = [0, ln 3], v = [4, 8], scale 1.
  // Query 1 scores [0, ln 3] → softmax [1/4, 3/4] → 4/4 + 3·8/4 = 7.
  const q = f32([1, 2, 1, 1], [1, 1]);
  const k = f32([1, 2, 1, 1], [0, Math.log(3)]);
  const v = f32([1, 2, 1, 1], [4, 8]);

  it('without a mask both queries see both keys: [7, 7]', () => {
    close(run('attention', [q, k, v], { causal: false, scale: 1 }).data, [7, 7]);
  });

  it('causal: query 0 sees key 0 only → 4; query 1 → 7', () => {
    close(run('attention', [q, k, v], { causal: true, scale: 1 }).data, [4, 7]);
  });

  it('GQA: two query heads share one kv head; head 1 (q = 0) averages uniformly', () => {
    // q[s] = [head 0: 1, head 1: 0]. Query 0 (causal): key 0 only → 4 for both heads.
    // Query 1: head 0 → 7 as above; head 1 scores [0, 0] → [1/2, 1/2] → 6.
    const q2 = f32([1, 2, 2, 1], [1, 0, 1, 0]);
    const y = run('attention', [q2, k, v], { causal: true, scale: 1 });
    expect(y.shape).toEqual([1, 2, 2, 1]);
    close(y.data, [4, 4, 7, 6]);
  });

  it('an additive bias broadcast from [1, 1, 1, k_len] (a key mask) and from [q_len, k_len]', () => {
    // q = 0, so scores = bias. Bias [0, -ln 3] → softmax [3/4, 1/4] → 3 + 2 = 5 for both queries.
    const zero = f32([1, 2, 1, 1], [0, 0]);
    close(run('attention', [zero, k, v, f32([1, 1, 1, 2], [0, -Math.log(3)])], { causal: false, scale: 1 }).data, [5, 5]);
    // Per-query bias: query 0 [0, -ln 3] → 5; query 1 [-ln 3, 0] → 1 + 6 = 7.
    close(run('attention', [zero, k, v, f32([2, 2], [0, -Math.log(3), -Math.log(3), 0])], { causal: false, scale: 1 }).data, [5, 7]);
  });

  it('causal with fewer queries than keys aligns to the last keys (a continued prefix)', () => {
    // One query with q = 0 over 3 keys: it is the last position, so it sees all three: mean of v = 2.
    const y = run('attention', [f32([1, 1, 1, 1], [0]), f32([1, 3, 1, 1], [5, -5, 1]), f32([1, 3, 1, 1], [1, 2, 3])], { causal: true, scale: 1 });
    close(y.data, [2]);
  });

  it('matches a naive loop with repeat_kv: batch 2, 5 positions, 4 heads over 2 kv heads, causal, bias', () => {
    const [B, S, H, Hk, D, Dv] = [2, 5, 4, 2, 3, 2];
    const rand = mulberry32(7);
    const fill = (shape: number[]) => f32(shape, Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rand() * 2 - 1));
    const qq = fill([B, S, H, D]);
    const kk = fill([B, S, Hk, D]);
    const vv = fill([B, S, Hk, Dv]);
    const bias = fill([1, H, S, S]);
    const scale = 0.5;
    const y = run('attention', [qq, kk, vv, bias], { causal: true, scale });

    // The textbook loop: repeat kv heads (HF repeat_kv: head h reads kv head ⌊h / (H/Hk)⌋), mask with -∞.
    const want: number[] = [];
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < S; i++) {
        for (let h = 0; h < H; h++) {
          const hk = Math.floor(h / (H / Hk));
          const s: number[] = [];
          for (let j = 0; j < S; j++) {
            let dot = 0;
            for (let d = 0; d < D; d++) dot += qq.data[((b * S + i) * H + h) * D + d]! * kk.data[((b * S + j) * Hk + hk) * D + d]!;
            s.push(j > i ? -Infinity : scale * dot + bias.data[(h * S + i) * S + j]!);
          }
          const m = Math.max(...s);
          const e = s.map((x) => Math.exp(x - m));
          const z = e.reduce((p, c) => p + c, 0);
          for (let d = 0; d < Dv; d++) want.push(e.reduce((acc, p, j) => acc + (p / z) * vv.data[((b * S + j) * Hk + hk) * Dv + d]!, 0));
        }
      }
    }
    expect(y.shape).toEqual([B, S, H, Dv]);
    close(y.data, want);
  });

  it('kv heads that do not divide the query heads are an error', () => {
    expect(() => run('attention', [f32([1, 1, 3, 1], [0, 0, 0]), f32([1, 1, 2, 1], [0, 0]), f32([1, 1, 2, 1], [0, 0])], { causal: false, scale: 1 })).toThrow(/kv heads \(2\) do not divide query heads \(3\)/);
  });
});

describe('rope', () => {
  // x [batch 1, seq 2, heads 1, head_dim 4] = [1, 2, 3, 4] at positions 0 and 1; theta 10000.
  // inv_freq_i = theta^(-2i/4): [1, 10000^-0.5 = 0.01]; at position 1 the angles are [1, 0.01].
  const x = f32([1, 2, 1, 4], [1, 2, 3, 4, 1, 2, 3, 4]);
  const c1 = Math.cos(1);
  const s1 = Math.sin(1);
  const c2 = Math.cos(0.01);
  const s2 = Math.sin(0.01);

  it('halves (Llama rotate_half): pairs (x₀, x₂) by angle 1 and (x₁, x₃) by angle 0.01', () => {
    const y = run('rope', [x], { theta: 10000, rotary_dim: 4, interleaved: false });
    // y₀ = 1·cos 1 - 3·sin 1 = 0.540302 - 2.524413 = -1.984111
    // y₁ = 2·cos .01 - 4·sin .01 = 1.999900 - 0.039999 = 1.959901
    // y₂ = 3·cos 1 + 1·sin 1 = 1.620907 + 0.841471 = 2.462378
    // y₃ = 4·cos .01 + 2·sin .01 = 3.999800 + 0.020000 = 4.019800
    close(y.data.subarray(0, 4), [1, 2, 3, 4]); // position 0: angle 0, unchanged
    close(y.data.subarray(4), [1 * c1 - 3 * s1, 2 * c2 - 4 * s2, 3 * c1 + 1 * s1, 4 * c2 + 2 * s2]);
    close(y.data.subarray(4), [-1.9841106485555495, 1.959900668395159, 2.4623779024123156, 4.019799667896923]);
  });

  it('interleaved (GPT-J): pairs (x₀, x₁) by angle 1 and (x₂, x₃) by angle 0.01', () => {
    const y = run('rope', [x], { theta: 10000, rotary_dim: 4, interleaved: true });
    // y₀ = cos 1 - 2 sin 1 = -1.142640; y₁ = 2 cos 1 + sin 1 = 1.922076
    // y₂ = 3 cos .01 - 4 sin .01 = 2.959851; y₃ = 4 cos .01 + 3 sin .01 = 4.029800
    close(y.data.subarray(4), [-1.1426396637476532, 1.922075596544176, 2.959850668814059, 4.029799501007583]);
  });

  it('dimensions past rotary_dim pass through', () => {
    // rotary_dim 2: one pair (x₀, x₁) with inv_freq 1; x₂, x₃ unchanged
    const y = run('rope', [x], { theta: 10000, rotary_dim: 2, interleaved: false });
    close(y.data.subarray(4), [c1 - 2 * s1, 2 * c1 + s1, 3, 4]);
  });

  it('rounds inv_freq and the angle to float32 as HF does', () => {
    // inv_freq₁ = float32(0.01) = 0.009999999776482582; at position 100000 the angle is
    // float32(100000 · 0.0099999997765) = float32(999.99997765) = 1000 exactly. With a float64 angle,
    // y₁ would be -2.1826728 instead of 2·cos 1000 - 4·sin 1000 = -2.1827600 (a difference of 9e-5).
    const S = 100001;
    const data = new Float32Array(S * 4);
    data.set([1, 2, 3, 4], (S - 1) * 4);
    const y = run('rope', [{ dtype: 'f32', shape: [1, S, 1, 4], data }], { theta: 10000, rotary_dim: 4, interleaved: false });
    const last = y.data.subarray((S - 1) * 4);
    close([last[1]!, last[3]!], [2 * Math.cos(1000) - 4 * Math.sin(1000), 4 * Math.cos(1000) + 2 * Math.sin(1000)], 5);
    close([last[1]!, last[3]!], [-2.1827600095466044, 3.9032753862268166], 5);
  });

  it('an odd rotary_dim is an error', () => {
    expect(() => run('rope', [x], { theta: 10000, rotary_dim: 3, interleaved: false })).toThrow(/rotary_dim 3 must be even/);
  });
});

describe('T5 relative position buckets (HF _relative_position_bucket)', () => {
  it('bidirectional, 32 buckets, max_distance 128: known values', () => {
    // 16 buckets per direction, max_exact 8. Keys after the query (rel > 0) add 16.
    // |rel| < 8 is its own bucket; else 8 + ⌊ln(n/8) / ln(128/8) · 8⌋, at most 15:
    //   n = 12: ln 1.5 / ln 16 · 8 = 0.405465/2.772589·8 = 1.1699 → 9
    //   n = 20: ln 2.5 / ln 16 · 8 = 0.916291/2.772589·8 = 2.6439 → 10
    //   n = 16: ln 2 / ln 16 · 8 = 2 exactly → 10
    const table: [number, number][] = [
      [0, 0], [-1, 1], [1, 17], [-7, 7], [-8, 8], [8, 24], [-11, 8], [-12, 9], [-16, 10], [-20, 10], [20, 26],
      [-23, 11], [-32, 12], [-46, 13], [-64, 14], [-90, 14], [-91, 15], [-128, 15], [-1000, 15], [200, 31],
    ];
    for (const [rel, bucket] of table) expect(relativeBucket(rel, true, 32, 128), `rel ${rel}`).toBe(bucket);
  });

  it('unidirectional (decoder), 32 buckets, max_distance 128: known values', () => {
    // n = max(-rel, 0), max_exact 16; n ≥ 16 → 16 + ⌊ln(n/16) / ln 8 · 16⌋, at most 31:
    //   n = 20: ln 1.25 / ln 8 · 16 = 0.223144/2.079442·16 = 1.7169 → 17
    //   n = 112: ln 7 / ln 8 · 16 = 14.9726 → 30;  n = 113: ln 7.0625 / ln 8 · 16 = 15.0408 → 31
    const table: [number, number][] = [[5, 0], [0, 0], [-1, 1], [-15, 15], [-16, 16], [-18, 16], [-19, 17], [-20, 17], [-112, 30], [-113, 31], [-1000, 31]];
    for (const [rel, bucket] of table) expect(relativeBucket(rel, false, 32, 128), `rel ${rel}`).toBe(bucket);
  });

  it('the first distance of every log bucket matches the float32 boundary table of HF 5.17', () => {
    const firstOf = (bidirectional: boolean) => {
      const seen = new Map<number, number>();
      for (let n = 0; n <= 200; n++) {
        const b = relativeBucket(-n, bidirectional, 32, 128);
        if (!seen.has(b)) seen.set(b, n);
      }
      return [...seen.values()];
    };
    expect(firstOf(true).slice(8)).toEqual([8, 12, 16, 23, 32, 46, 64, 91]);
    expect(firstOf(false).slice(16)).toEqual([16, 19, 21, 24, 27, 31, 35, 40, 46, 52, 59, 67, 77, 87, 99, 113]);
  });

  it('relative_bias looks up table[bucket(key - query), head] → [1, heads, q_len, k_len]', () => {
    // table[b, h] = 100·h + b. q_len 2, k_len 3, bidirectional:
    //   query 0: rel [0, 1, 2] → buckets [0, 17, 18]; query 1: rel [-1, 0, 1] → [1, 0, 17]
    const table = f32([32, 2], Array.from({ length: 64 }, (_, i) => 100 * (i % 2) + Math.floor(i / 2)));
    const y = run('relative_bias', [table], { bidirectional: true, max_distance: 128, q_len: 2, k_len: 'seq' }, { seq: 3 });
    expect(y.shape).toEqual([1, 2, 2, 3]);
    expect(Array.from(y.data)).toEqual([0, 17, 18, 1, 0, 17, 100, 117, 118, 101, 100, 117]);
    // decoder (unidirectional): future keys share bucket 0; query 1 sees key 0 at distance 1
    const d = run('relative_bias', [table], { bidirectional: false, max_distance: 128, q_len: 2, k_len: 2 });
    expect(Array.from(d.data)).toEqual([0, 0, 1, 0, 100, 100, 101, 100]);
  });
});
