// RMSNorm and LayerNorm on hand-computed values.
import { describe, expect, it } from 'vitest';
import type { Attr } from '../../compiler/ir/types.ts';
import { kernels, tensorOf, type Tensor } from '../../runtime/reference/index.ts';

const run = (op: string, ins: Tensor[], attrs: Record<string, Attr>): Tensor => kernels[op]!(ins, attrs, { sizes: {}, outShapes: [] })[0]!;
const f32 = (shape: number[], v: number[]) => tensorOf('f32', shape, v);
const close = (got: ArrayLike<number>, want: number[], digits = 6) => {
  expect(got).toHaveLength(want.length);
  Array.from(got).forEach((g, i) => expect(g, `element ${i}`).toBeCloseTo(want[i]!, digits));
};

describe('rms_norm: y = x / √(mean(x²) + eps) · w', () => {
  it('x = [1, 2, 3, 4]: mean(x²) = 30/4 = 7.5, + eps 0.5 = 8, so y = x/√8 · w', () => {
    // x/√8 = [0.3535534, 0.7071068, 1.0606602, 1.4142136]; w = [1, 1, 2, 0.5]
    const y = run('rms_norm', [f32([1, 4], [1, 2, 3, 4]), f32([4], [1, 1, 2, 0.5])], { eps: 0.5 });
    expect(y.shape).toEqual([1, 4]);
    close(y.data, [0.35355339059327373, 0.7071067811865475, 2.1213203435596424, 0.7071067811865475]);
  });

  it('normalises every row on its own', () => {
    // row 2 = 10 × row 1 with eps 0: same result
    const y = run('rms_norm', [f32([2, 2], [3, 4, 30, 40]), f32([2], [1, 1])], { eps: 0 });
    // mean(x²) = 12.5, √12.5 = 3.5355339: [0.8485281, 1.1313708] twice
    close(y.data, [0.848528137423857, 1.131370849898476, 0.848528137423857, 1.131370849898476]);
  });

  it('a weight that does not match the last axis is an error', () => {
    expect(() => run('rms_norm', [f32([1, 4], [1, 2, 3, 4]), f32([3], [1, 1, 1])], { eps: 0 })).toThrow(/f32\[3\] does not match the last axis of f32\[1, 4\]/);
  });
});

describe('layer_norm: y = (x - mean) / √(var + eps) · w + b', () => {
  // x = [1, 2, 3, 4]: mean 2.5, x - mean = [-1.5, -0.5, 0.5, 1.5], var = (2.25 + 0.25 + 0.25 + 2.25)/4 = 1.25
  // (population variance); + eps 0.75 = 2, so (x - mean)/√2 = [-1.0606602, -0.3535534, 0.3535534, 1.0606602]
  const x = f32([1, 4], [1, 2, 3, 4]);
  const w = f32([4], [1, 1, 1, 2]);

  it('with a bias', () => {
    const y = run('layer_norm', [x, w, f32([4], [0, 0, 1, 0])], { eps: 0.75 });
    close(y.data, [-1.0606601717798212, -0.35355339059327373, 1.3535533905932737, 2.1213203435596424]);
  });

  it('without a bias (the operand is optional)', () => {
    const y = run('layer_norm', [x, w], { eps: 0.75 });
    close(y.data, [-1.0606601717798212, -0.35355339059327373, 0.35355339059327373, 2.1213203435596424]);
  });
});
