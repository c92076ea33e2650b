// Reductions and softmax on hand-computed values.
import { describe, expect, it } from 'vitest';
import type { Attr } from '../../compiler/ir/types.ts';
import { kernels, tensorOf, type Tensor } from '../../runtime/reference/index.ts';

const run = (op: string, x: Tensor, attrs: Record<string, Attr> = {}): Tensor => kernels[op]!([x], attrs, { sizes: {}, outShapes: [] })[0]!;
const f32 = (shape: number[], v: number[]) => tensorOf('f32', shape, v);
const values = (t: Tensor) => Array.from(t.data);
const close = (got: number[], want: number[], digits = 6) => {
  expect(got).toHaveLength(want.length);
  got.forEach((g, i) => expect(g, `element ${i}`).toBeCloseTo(want[i]!, digits));
};

// x = [[1, 2, 3],
//      [4, 5, 6]]
const x = f32([2, 3], [1, 2, 3, 4, 5, 6]);

describe('reduce_sum, reduce_mean, reduce_max', () => {
  it('over the last axis: sums [6, 15], means [2, 5], maxima [3, 6]', () => {
    const s = run('reduce_sum', x, { axis: -1 });
    expect(s.shape).toEqual([2]);
    expect(values(s)).toEqual([6, 15]);
    expect(values(run('reduce_mean', x, { axis: 1 }))).toEqual([2, 5]);
    expect(values(run('reduce_max', x, { axis: -1 }))).toEqual([3, 6]);
  });

  it('over axis 0: sums [5, 7, 9]; keepdims keeps a unit axis', () => {
    expect(values(run('reduce_sum', x, { axis: 0 }))).toEqual([5, 7, 9]);
    expect(run('reduce_sum', x, { axis: 0, keepdims: true }).shape).toEqual([1, 3]);
    expect(run('reduce_mean', x, { axis: 1, keepdims: true }).shape).toEqual([2, 1]);
  });

  it('accumulates in float64: 1e8 + 1 - 1e8 = 1 (a float32 running sum gives 0)', () => {
    expect(values(run('reduce_sum', f32([3], [1e8, 1, -1e8]), { axis: 0 }))).toEqual([1]);
  });

  it('integer tensors keep their dtype', () => {
    const s = run('reduce_sum', tensorOf('i32', [3], [1, 2, 4]), { axis: 0 });
    expect(s.dtype).toBe('i32');
    expect(values(s)).toEqual([7]);
  });

  it('reduce_max propagates NaN, as torch.max', () => {
    expect(values(run('reduce_max', f32([3], [1, NaN, 2]), { axis: 0 }))[0]).toBeNaN();
  });

  it('an axis out of range is an error', () => {
    expect(() => run('reduce_sum', x, { axis: 2 })).toThrow(/axis 2 is out of range for rank 2/);
  });
});

describe('logsumexp', () => {
  it('log(e⁰ + e^ln3) = ln 4', () => {
    close(values(run('logsumexp', f32([2], [0, Math.log(3)]), { axis: 0 })), [Math.log(4)]);
  });

  it('is max-shifted: logsumexp([1000, 1000]) = 1000 + ln 2, not ∞', () => {
    close(values(run('logsumexp', f32([2], [1000, 1000]), { axis: 0 })), [1000 + Math.LN2], 3);
  });

  it('of all -∞ is -∞ (not NaN from -∞ - -∞)', () => {
    expect(values(run('logsumexp', f32([2], [-Infinity, -Infinity]), { axis: 0 }))).toEqual([-Infinity]);
  });
});

describe('softmax', () => {
  it('[0, ln 3] → [1/4, 3/4]', () => {
    close(values(run('softmax', f32([2], [0, Math.log(3)]))), [0.25, 0.75]);
  });

  it('is max-shifted: [1000, 1001, 1002] equals softmax([0, 1, 2]) = [1, e, e²] / (1 + e + e²)', () => {
    // 1 + e + e² = 11.1073; [0.0900306, 0.2447285, 0.6652410]
    close(values(run('softmax', f32([3], [1000, 1001, 1002]))), [0.09003057317038046, 0.24472847105479764, 0.6652409557748219]);
  });

  it('the axis defaults to the last; axis 0 normalises columns', () => {
    // columns of [[0, 0], [ln 3, 0]]: [1/4, 3/4] and [1/2, 1/2]
    const t = f32([2, 2], [0, 0, Math.log(3), 0]);
    close(values(run('softmax', t, { axis: 0 })), [0.25, 0.5, 0.75, 0.5]);
    close(values(run('softmax', t)), [0.5, 0.5, 0.75, 0.25]);
  });

  it('-∞ entries get probability 0', () => {
    close(values(run('softmax', f32([3], [0, -Infinity, 0]))), [0.5, 0, 0.5]);
  });
});
