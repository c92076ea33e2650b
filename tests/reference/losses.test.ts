// Router losses on hand-computed values.
import { describe, expect, it } from 'vitest';
import type { Attr } from '../../compiler/ir/types.ts';
import { kernels, tensorOf, type Tensor } from '../../runtime/reference/index.ts';

const run = (op: string, ins: Tensor[], attrs: Record<string, Attr> = {}): Tensor => kernels[op]!(ins, attrs, { sizes: {}, outShapes: [] })[0]!;
const f32 = (shape: number[], v: number[]) => tensorOf('f32', shape, v);
const i32 = (shape: number[], v: number[]) => tensorOf('i32', shape, v);

describe('load_balance_loss: E · Σ_j Σ_e mean_t(indices[t, j] = e) · mean_t(probs[t, e])', () => {
  // 4 tokens, 2 experts: probs = [[.7, .3], [.6, .4], [.2, .8], [.9, .1]]
  // P = mean probability per expert = [2.4/4, 1.6/4] = [0.6, 0.4]
  const probs = f32([4, 2], [0.7, 0.3, 0.6, 0.4, 0.2, 0.8, 0.9, 0.1]);

  it('top-1: routes [0, 0, 1, 0] → f = [3/4, 1/4]; loss = 2·(0.75·0.6 + 0.25·0.4) = 2·0.55 = 1.1', () => {
    const y = run('load_balance_loss', [probs, i32([4, 1], [0, 0, 1, 0])], { experts: 2 });
    expect(y.shape).toEqual([]);
    expect(y.data[0]).toBeCloseTo(1.1, 6);
  });

  it('top-2 sums over both choices (not divided by k): 2·(.75·.6 + .25·.4 + .25·.6 + .75·.4) = 2·1.0 = 2', () => {
    const y = run('load_balance_loss', [probs, i32([4, 2], [0, 1, 0, 1, 1, 0, 0, 1])], { experts: 2 });
    expect(y.data[0]).toBeCloseTo(2, 6);
  });

  it('top-2 over 3 experts: P = [.3, .45, .25]; j=0 picks {0, 1}, j=1 picks {1, 2}', () => {
    // Σ = (.5·.3 + .5·.45) + (.5·.45 + .5·.25) = .375 + .35 = .725; · 3 = 2.175
    const y = run('load_balance_loss', [f32([2, 3], [0.5, 0.3, 0.2, 0.1, 0.6, 0.3]), i32([2, 2], [0, 1, 1, 2])], { experts: 3 });
    expect(y.data[0]).toBeCloseTo(2.175, 6);
  });

  it('leading axes are tokens: probs [1, 4, 2] gives the same loss', () => {
    const y = run('load_balance_loss', [{ ...probs, shape: [1, 4, 2] }, i32([4, 1], [0, 0, 1, 0])], { experts: 2 });
    expect(y.data[0]).toBeCloseTo(1.1, 6);
  });

  it('an expert index out of range is an error', () => {
    expect(() => run('load_balance_loss', [probs, i32([4, 1], [0, 0, 2, 0])], { experts: 2 })).toThrow(/expert index 2 is out of range/);
  });
});

describe('z_loss: mean_t (log Σ_e e^logits[t, e])²', () => {
  it('rows [0, 0] and [ln 3, 0]: logsumexp ln 2 and ln 4; (ln²2 + 4·ln²2)/2 = 2.5·ln²2 = 1.2011325', () => {
    const y = run('z_loss', [f32([2, 2], [0, 0, Math.log(3), 0])]);
    expect(y.shape).toEqual([]);
    expect(y.data[0]).toBeCloseTo(1.2011325347955035, 6);
  });

  it('is max-shifted: logits [1000, 1000] give (1000 + ln 2)² = 1001386.77, not ∞', () => {
    const y = run('z_loss', [f32([1, 2], [1000, 1000])]);
    expect(y.data[0]! / 1001386.7748141336).toBeCloseTo(1, 6);
  });
});
