// Elementwise kernels on hand-computed values.
import { describe, expect, it } from 'vitest';
import type { Attr } from '../../compiler/ir/types.ts';
import { kernels, tensorOf, type Tensor } from '../../runtime/reference/index.ts';
import { erf, erfc, roundToBf16, roundToF16 } from '../../runtime/reference/kernels/elementwise.ts';

function run(op: string, ins: Tensor[], attrs: Record<string, Attr> = {}, sizes: Record<string, number> = {}): Tensor {
  return kernels[op]!(ins, attrs, { sizes, outShapes: [] })[0]!;
}
const f32 = (shape: number[], v: number[]) => tensorOf('f32', shape, v);
const i32 = (shape: number[], v: number[]) => tensorOf('i32', shape, v);
const values = (t: Tensor) => Array.from(t.data);
const close = (got: number[], want: number[], digits = 6) => {
  expect(got).toHaveLength(want.length);
  got.forEach((g, i) => expect(g, `element ${i}`).toBeCloseTo(want[i]!, digits));
};

describe('binary ops broadcast', () => {
  it('add: [2, 1] + [3] → [2, 3]', () => {
    // [[1], [2]] + [10, 20, 30] = [[11, 21, 31], [12, 22, 32]]
    const y = run('add', [f32([2, 1], [1, 2]), f32([3], [10, 20, 30])]);
    expect(y.shape).toEqual([2, 3]);
    expect(values(y)).toEqual([11, 21, 31, 12, 22, 32]);
  });

  it('sub, mul, div and maximum with a scalar operand', () => {
    const a = f32([3], [1, -2, 6]);
    const s = f32([], [2]);
    expect(values(run('sub', [a, s]))).toEqual([-1, -4, 4]);
    expect(values(run('mul', [a, s]))).toEqual([2, -4, 12]);
    expect(values(run('div', [a, s]))).toEqual([0.5, -1, 3]);
    expect(values(run('maximum', [a, s]))).toEqual([2, 2, 6]);
    expect(values(run('maximum', [f32([1], [NaN]), s]))[0]).toBeNaN(); // NaN propagates, as torch.maximum
  });

  it('integer tensors stay integers; division truncates toward zero', () => {
    const y = run('div', [i32([2], [7, -7]), i32([2], [2, 2])]);
    expect(y.dtype).toBe('i32');
    expect(y.data).toBeInstanceOf(Int32Array);
    expect(values(y)).toEqual([3, -3]);
    expect(values(run('add', [i32([2], [1, 2]), i32([], [5])]))).toEqual([6, 7]);
    expect(() => run('div', [i32([1], [1]), i32([1], [0])])).toThrow(/integer division by zero/);
  });

  it('shapes that do not broadcast are an error', () => {
    expect(() => run('add', [f32([2, 3], [1, 2, 3, 4, 5, 6]), f32([2], [1, 2])])).toThrow(/\[2, 3\] and \[2\] do not broadcast/);
    expect(() => run('add', [f32([1], [1]), i32([1], [1])])).toThrow(/operand types differ/);
  });
});

describe('unary ops', () => {
  it('relu, neg, square, sqrt, rsqrt, exp, log, tanh', () => {
    expect(values(run('relu', [f32([3], [-1, 0, 2])]))).toEqual([0, 0, 2]);
    expect(values(run('relu', [f32([1], [NaN])]))[0]).toBeNaN(); // as torch.relu
    expect(values(run('neg', [f32([2], [1, -2])]))).toEqual([-1, 2]);
    expect(values(run('square', [f32([1], [-3])]))).toEqual([9]);
    expect(values(run('sqrt', [f32([1], [4])]))).toEqual([2]);
    expect(values(run('rsqrt', [f32([1], [4])]))).toEqual([0.5]);
    expect(values(run('exp', [f32([1], [0])]))).toEqual([1]);
    close(values(run('log', [f32([1], [Math.E])])), [1]);
    expect(values(run('tanh', [f32([1], [0])]))).toEqual([0]);
  });

  it('sigmoid and silu: sigmoid(0) = 1/2, silu(1) = 1/(1 + e⁻¹) = 0.7310585786, no NaN at ±1000', () => {
    close(values(run('sigmoid', [f32([3], [0, 1000, -1000])])), [0.5, 1, 0]);
    close(values(run('silu', [f32([3], [1, 1000, -1000])])), [0.7310585786300049, 1000, 0]);
  });

  it('gelu uses the exact normal CDF: gelu(x) = x·Φ(x), Φ(1) = 0.8413447461, Φ(3) = 0.9986501020', () => {
    close(values(run('gelu', [f32([4], [0, 1, -1, 3])])), [0, 0.8413447460685429, -0.15865525393145707, 2.99595030590511]);
    // Far in the negative tail 1 + erf cancels to 0, but Φ(-10) = 7.6198530e-24 is a normal float32:
    // computed through erfc, gelu(-10) = -7.6198530e-23 keeps its relative accuracy.
    const tail = values(run('gelu', [f32([1], [-10])]))[0]!;
    expect(tail / -7.619853024160593e-23).toBeCloseTo(1, 6);
  });

  it('gelu_tanh: 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³)))', () => {
    // x = 1: √(2/π)·1.044715 = 0.8335565; tanh = 0.6823840; 0.5·1.6823840 = 0.8411920
    close(values(run('gelu_tanh', [f32([2], [1, -1])])), [0.8411919906082768, -0.15880800939172324]);
  });

  it('erf and erfc agree with tabulated values on both sides of the series/continued-fraction seam (2.5)', () => {
    const rel = (got: number, want: number) => expect(Math.abs(got - want) / Math.abs(want)).toBeLessThan(1e-13);
    rel(erf(0.5), 0.5204998778130465);
    rel(erf(1), 0.8427007929497149);
    rel(erf(-1), -0.8427007929497149);
    rel(erf(2), 0.9953222650189527);
    rel(erfc(2.5), 4.069520174449589e-4);
    rel(erfc(3), 2.2090496998585438e-5);
    rel(erfc(5), 1.5374597944280351e-12);
    rel(erfc(-1), 1.842700792949715);
    expect(Math.abs(erfc(2.5 - 1e-12) - erfc(2.5 + 1e-12))).toBeLessThan(1e-14);
  });

  it('unary ops refuse integer tensors', () => {
    expect(() => run('exp', [i32([1], [1])])).toThrow(/must be a float tensor, got i32\[1\]/);
  });
});

describe('scale, const, arange', () => {
  it('scale multiplies by a constant factor', () => {
    expect(values(run('scale', [f32([2], [1, 2])], { factor: 0.5 }))).toEqual([0.5, 1]);
  });

  it('const makes a scalar of its dtype', () => {
    const c = run('const', [], { value: 2.5, dtype: 'f32' });
    expect(c.shape).toEqual([]);
    expect(values(c)).toEqual([2.5]);
    const n = run('const', [], { value: 2.7, dtype: 'i64' });
    expect(n.data).toBeInstanceOf(Int32Array);
    expect(values(n)).toEqual([2]);
    expect(values(run('const', [], { value: 3, dtype: 'bool' }))).toEqual([1]);
    expect(() => run('const', [], { value: 1, dtype: 'f64' })).toThrow(/must be a dtype/);
  });

  it('arange counts 0 … n-1 with n a symbolic dimension', () => {
    const y = run('arange', [], { n: 'seq' }, { seq: 4 });
    expect(y.dtype).toBe('i32');
    expect(values(y)).toEqual([0, 1, 2, 3]);
  });
});

describe('cast', () => {
  it('float → integer truncates toward zero; → bool is "not zero"; integer → float is exact', () => {
    expect(values(run('cast', [f32([3], [1.9, -1.9, 0.5])], { dtype: 'i32' }))).toEqual([1, -1, 0]);
    expect(values(run('cast', [f32([3], [0, 0.5, -2])], { dtype: 'bool' }))).toEqual([0, 1, 1]);
    const f = run('cast', [i32([2], [3, -4])], { dtype: 'f32' });
    expect(f.data).toBeInstanceOf(Float32Array);
    expect(values(f)).toEqual([3, -4]);
  });

  it('→ bf16 rounds to 8 significant bits, ties to even', () => {
    // bf16 spacing at 1 is 2⁻⁷ = 0.0078125.
    expect(roundToBf16(1 + 2 ** -8)).toBe(1); // halfway between 1 and 1.0078125: to the even one (1)
    expect(roundToBf16(1 + 3 * 2 ** -8)).toBe(1.015625); // halfway between 1.0078125 and 1.015625: to even
    expect(roundToBf16(1 + 2 ** -8 + 2 ** -20)).toBe(1.0078125); // just above halfway: up
    expect(roundToBf16(-(1 + 3 * 2 ** -8))).toBe(-1.015625);
    expect(roundToBf16(Infinity)).toBe(Infinity);
    expect(roundToBf16(NaN)).toBeNaN();
    expect(values(run('cast', [f32([2], [1 + 2 ** -8, 3])], { dtype: 'bf16' }))).toEqual([1, 3]);
  });

  it('→ f16 rounds to 11 significant bits, ties to even, overflows past 65504, keeps subnormals', () => {
    expect(roundToF16(1 + 2 ** -11)).toBe(1); // halfway between 1 and 1 + 2⁻¹⁰: to even (1)
    expect(roundToF16(1 + 3 * 2 ** -11)).toBe(1 + 2 ** -9); // halfway between 1 + 2⁻¹⁰ and 1 + 2⁻⁹: to even
    expect(roundToF16(0.1)).toBe(0.0999755859375); // 1638.4 · 2⁻¹⁴ → 1638 · 2⁻¹⁴
    expect(roundToF16(65519)).toBe(65504); // below the halfway point 65520 to the next power
    expect(roundToF16(65520)).toBe(Infinity);
    expect(roundToF16(-65520)).toBe(-Infinity);
    expect(roundToF16(3e-8)).toBe(2 ** -24); // 0.503 of the smallest subnormal: rounds up to it
    expect(roundToF16(1e-8)).toBe(0); // 0.168 of it: rounds to zero
  });
});
