// Shape kernels: reshape, expand, transpose, slice, concat.
import { describe, expect, it } from 'vitest';
import type { Attr } from '../../compiler/ir/types.ts';
import { kernels, tensorOf, type Tensor } from '../../runtime/reference/index.ts';

const run = (op: string, ins: Tensor[], attrs: Record<string, Attr>, sizes: Record<string, number> = {}): Tensor => kernels[op]!(ins, attrs, { sizes, outShapes: [] })[0]!;
const f32 = (shape: number[], v: number[]) => tensorOf('f32', shape, v);
const iota = (shape: number[]) => f32(shape, Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i));
const values = (t: Tensor) => Array.from(t.data);

describe('reshape', () => {
  it('keeps the elements, with symbolic dimensions evaluated from the sizes', () => {
    const y = run('reshape', [iota([2, 3])], { shape: [3, 'batch'] }, { batch: 2 });
    expect(y.shape).toEqual([3, 2]);
    expect(values(y)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('a different element count is an error', () => {
    expect(() => run('reshape', [iota([2, 3])], { shape: [4, 2] })).toThrow(/cannot reshape f32\[2, 3\] \(6 elements\) to \[4, 2\] \(8 elements\)/);
  });
});

describe('expand', () => {
  it('repeats size-1 axes: [1, 3] → [2, 3]', () => {
    const y = run('expand', [f32([1, 3], [1, 2, 3])], { shape: [2, 3] });
    expect(values(y)).toEqual([1, 2, 3, 1, 2, 3]);
  });
});

describe('transpose', () => {
  it('perm [1, 0] of [[0, 1, 2], [3, 4, 5]] is [[0, 3], [1, 4], [2, 5]]', () => {
    const y = run('transpose', [iota([2, 3])], { perm: [1, 0] });
    expect(y.shape).toEqual([3, 2]);
    expect(values(y)).toEqual([0, 3, 1, 4, 2, 5]);
  });

  it('result axis i is input axis perm[i]: y[a, b, c] = x[b, c, a] for perm [2, 0, 1]', () => {
    // x [2, 3, 4] holds its flat index; y [4, 2, 3]; y[1, 0, 2] = x[0, 2, 1] = 0·12 + 2·4 + 1 = 9
    const y = run('transpose', [iota([2, 3, 4])], { perm: [2, 0, 1] });
    expect(y.shape).toEqual([4, 2, 3]);
    expect(y.data[1 * 6 + 0 * 3 + 2]).toBe(9);
    // y[3, 1, 0] = x[1, 0, 3] = 12 + 3 = 15
    expect(y.data[3 * 6 + 1 * 3 + 0]).toBe(15);
  });

  it('integer tensors stay integers', () => {
    const y = run('transpose', [tensorOf('i32', [2, 1], [7, 8])], { perm: [1, 0] });
    expect(y.data).toBeInstanceOf(Int32Array);
    expect(values(y)).toEqual([7, 8]);
  });

  it('a non-permutation is an error', () => {
    expect(() => run('transpose', [iota([2, 3])], { perm: [0, 0] })).toThrow(/not a permutation/);
  });
});

describe('slice', () => {
  it('elements 1 … 2 of axis 1 of [[0, 1, 2, 3], [4, 5, 6, 7]] are [[1, 2], [5, 6]]', () => {
    const y = run('slice', [iota([2, 4])], { axis: 1, start: 1, end: 3 });
    expect(y.shape).toEqual([2, 2]);
    expect(values(y)).toEqual([1, 2, 5, 6]);
  });

  it('out of range is an error', () => {
    expect(() => run('slice', [iota([2, 4])], { axis: 1, start: 2, end: 5 })).toThrow(/slice 2:5 is out of range/);
  });
});

describe('concat', () => {
  it('along axis 1: [[1], [2]] ++ [[3, 4], [5, 6]] = [[1, 3, 4], [2, 5, 6]]', () => {
    const y = run('concat', [f32([2, 1], [1, 2]), f32([2, 2], [3, 4, 5, 6])], { axis: 1 });
    expect(y.shape).toEqual([2, 3]);
    expect(values(y)).toEqual([1, 3, 4, 2, 5, 6]);
  });

  it('along axis 0 appends rows; mismatched other axes are an error', () => {
    expect(values(run('concat', [f32([1, 2], [1, 2]), f32([2, 2], [3, 4, 5, 6])], { axis: 0 }))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(() => run('concat', [f32([1, 2], [1, 2]), f32([1, 3], [3, 4, 5])], { axis: 0 })).toThrow(/cannot concatenate/);
  });
});
