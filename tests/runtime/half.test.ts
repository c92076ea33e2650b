// f32 → f16 conversion for weights stored as f16 on WebGPU: rounding to nearest even at every edge.
import { describe, expect, it } from 'vitest';
import { halfBits, halfValue, toHalf } from '../../runtime/half.ts';

describe('halfBits', () => {
  it.each([
    [1, 0x3c00], [-2, 0xc000], [0.5, 0x3800], [65504, 0x7bff], [65519, 0x7bff], [65520, 0x7c00], [1e6, 0x7c00],
    [-Infinity, 0xfc00], [0, 0], [-0, 0x8000], [2 ** -14, 0x0400], [2 ** -24, 0x0001], [2 ** -25, 0], [3 * 2 ** -25, 0x0002],
    [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02], [1 + 2 ** -10, 0x3c01], [0.1, 0x2e66], [2 ** -14 - 2 ** -25, 0x0400],
  ])('%d → %i', (x, bits) => {
    expect(halfBits(x)).toBe(bits);
  });

  it('NaN stays NaN', () => {
    expect(Number.isNaN(halfValue(halfBits(NaN)))).toBe(true);
  });

  it('every finite f16 converts back to its own bits', () => {
    for (let h = 0; h < 0x10000; h++) {
      if ((h & 0x7c00) === 0x7c00) continue;
      expect(halfBits(halfValue(h))).toBe(h);
    }
  });

  it('pads to whole 32-bit words', () => {
    expect(Array.from(toHalf(Float32Array.of(1, 2, 3)))).toEqual([0x3c00, 0x4000, 0x4200, 0]);
  });
});
