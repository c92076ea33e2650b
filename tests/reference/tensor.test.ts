// Tensor helpers of the reference executor: strides, broadcasting, storage by dtype, attribute readers.
import { describe, expect, it } from 'vitest';
import {
  axisOf, broadcastIndex, broadcastShape, dimAttr, dimsAttr, intAttr, numel, strides, tensorOf,
} from '../../runtime/reference/tensor.ts';

describe('shapes and strides', () => {
  it('row-major strides and element counts', () => {
    expect(strides([2, 3, 4])).toEqual([12, 4, 1]);
    expect(numel([2, 3, 4])).toBe(24);
    expect(numel([])).toBe(1); // a scalar holds one element
  });

  it('negative axes count from the end; out-of-range axes are an error', () => {
    expect(axisOf(3, -1)).toBe(2);
    expect(axisOf(3, 0)).toBe(0);
    expect(() => axisOf(3, 3)).toThrow(/axis 3 is out of range for rank 3/);
  });
});

describe('broadcasting (NumPy rules)', () => {
  it('aligns trailing axes; size-1 and missing axes repeat', () => {
    expect(broadcastShape([2, 1], [3])).toEqual([2, 3]);
    expect(broadcastShape([4, 1, 5], [3, 1])).toEqual([4, 3, 5]);
    expect(() => broadcastShape([4, 3], [2, 3])).toThrow(/\[4, 3\] and \[2, 3\] do not broadcast/);
  });

  it('maps each output element to its source element', () => {
    // [2, 1] → [2, 3]: each row repeats its one element
    expect(Array.from(broadcastIndex([2, 1], [2, 3]))).toEqual([0, 0, 0, 1, 1, 1]);
    // [3] → [2, 3]: the row repeats
    expect(Array.from(broadcastIndex([3], [2, 3]))).toEqual([0, 1, 2, 0, 1, 2]);
    // a scalar broadcasts everywhere
    expect(Array.from(broadcastIndex([], [2]))).toEqual([0, 0]);
    expect(() => broadcastIndex([2], [3])).toThrow(/cannot broadcast/);
  });
});

describe('storage by dtype', () => {
  it('floats in a Float32Array (rounded to float32), integers truncated, booleans 0/1', () => {
    const f = tensorOf('bf16', [2], [0.1, 2]);
    expect(f.data).toBeInstanceOf(Float32Array);
    expect(f.data[0]).toBe(Math.fround(0.1));
    expect(Array.from(tensorOf('i32', [3], [2.7, -2.7, 5]).data)).toEqual([2, -2, 5]);
    expect(Array.from(tensorOf('bool', [3], [0, 2, -1]).data)).toEqual([0, 1, 1]);
    expect(() => tensorOf('f32', [2, 2], [1, 2, 3])).toThrow(/3 values do not fill a tensor of shape \[2, 2\]/);
  });
});

describe('attributes', () => {
  it('symbolic dimensions are evaluated with the sizes', () => {
    expect(dimAttr({ n: '2*batch*seq' }, 'n', { batch: 2, seq: 3 })).toBe(12);
    expect(dimsAttr({ shape: ['batch', 4] }, 'shape', { batch: 2 })).toEqual([2, 4]);
    expect(() => dimAttr({ n: 'seq' }, 'n', {})).toThrow(/no size given for the dimension 'seq'/);
  });

  it('a missing or mistyped attribute is a clear error', () => {
    expect(intAttr({}, 'k', 3)).toBe(3);
    expect(() => intAttr({}, 'k')).toThrow(/attribute 'k' must be a number/);
    expect(() => intAttr({ k: 1.5 }, 'k')).toThrow(/must be an integer/);
  });
});
