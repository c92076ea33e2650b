// GShard's random routing of the second expert (Lepikhin et al. 2021, Algorithm 1): a top-2 token keeps its second
// expert only when 2 · g2 / (g1 + g2) beats its coin. The coins are mulberry32(seed) draws, token t tossing coin
// t mod 4096, so every target makes the same choices.
import { describe, expect, it } from 'vitest';
import { COIN_PERIOD, secondExpertCoins } from '../../compiler/ir/coins.ts';
import { kernels, tensorOf } from '../../runtime/reference/index.ts';

const randomSecond = (w: number[], idx: number[], seed = 0) => {
  const T = w.length / 2;
  const [weights, indices] = kernels.random_second!([tensorOf('f32', [T, 2], w), tensorOf('i32', [T, 2], idx)], { seed }, { sizes: {} } as never);
  return { weights: Array.from(weights!.data), indices: Array.from(indices!.data) };
};

describe('random_second', () => {
  it('the coins of seed 0 begin 0.2664, 0.00033, 0.2233, 0.1462 (mulberry32, rounded to f32)', () => {
    const c = secondExpertCoins(0);
    expect(c).toHaveLength(COIN_PERIOD);
    expect(Array.from(c.slice(0, 4)).map((x) => x.toFixed(4))).toEqual(['0.2664', '0.0003', '0.2233', '0.1462']);
  });

  it('keeps the second expert when 2 · g2 / (g1 + g2) beats the coin, else empties it (index -1, weight 0)', () => {
    // token 0: 2 · 0.1 / 1.0 = 0.2 < 0.2664 → dropped;  token 1: 2 · 0.2 / 0.8 = 0.5 > 0.00033 → kept;
    // token 2: 2 · 0.1 / 1.0 = 0.2 < 0.2233 → dropped;  token 3: 2 · 0.1 / 1.0 = 0.2 > 0.1462 → kept.
    const got = randomSecond([0.9, 0.1, 0.6, 0.2, 0.9, 0.1, 0.9, 0.1], [3, 1, 0, 2, 1, 0, 2, 3]);
    expect(got.indices).toEqual([3, -1, 0, 2, 1, -1, 2, 3]);
    expect(got.weights.map((x) => +x.toFixed(6))).toEqual([0.9, 0, 0.6, 0.2, 0.9, 0, 0.9, 0.1]);
  });

  it('a second gate of one half or more is always kept; over 4096 tokens g2 = 1/4 keeps about half', () => {
    const T = COIN_PERIOD;
    const even = randomSecond(Array.from({ length: 2 * T }, () => 0.5), Array.from({ length: 2 * T }, (_, i) => i % 2));
    expect(even.indices.filter((e) => e === -1)).toHaveLength(0);
    const quarter = randomSecond(Array.from({ length: 2 * T }, (_, i) => (i % 2 ? 0.25 : 0.75)), Array.from({ length: 2 * T }, (_, i) => i % 2));
    const kept = quarter.indices.filter((e, i) => i % 2 === 1 && e === 1).length / T;
    expect(kept).toBeGreaterThan(0.47);
    expect(kept).toBeLessThan(0.53);
  });

  it('another seed tosses other coins', () => {
    const w = Array.from({ length: 64 }, (_, i) => (i % 2 ? 0.25 : 0.75));
    const idx = Array.from({ length: 64 }, (_, i) => i % 2);
    expect(randomSecond(w, idx, 1).indices).not.toEqual(randomSecond(w, idx, 0).indices);
  });
});
