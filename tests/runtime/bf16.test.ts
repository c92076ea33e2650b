// f32 → bf16 conversion for the weights a CUDA program stores as bf16: rounding to nearest even at every edge.
import { describe, expect, it } from 'vitest';
import { bf16BitsToNumber } from '../../runtime/safetensors/index.ts';
import { bf16Bits, roundToBf16, toBf16 } from '../../runtime/cuda/bf16.ts';

/** The f32 whose bit pattern is `bits`. */
const f32 = (bits: number) => new Float32Array(Uint32Array.of(bits).buffer)[0]!;

describe('bf16Bits', () => {
  it.each([
    [1, 0x3f80], [-2, 0xc000], [0.5, 0x3f00], [0.1, 0x3dcd], [3.140625, 0x4049], [0, 0], [-0, 0x8000],
    [Infinity, 0x7f80], [-Infinity, 0xff80],
    // Halfway between 1 and the next bf16 (1 + 2⁻⁷): to the even one, 1; a hair above: up.
    [1 + 2 ** -8, 0x3f80], [1 + 2 ** -8 + 2 ** -20, 0x3f81], [1 + 3 * 2 ** -8, 0x3f82], [1 + 2 ** -7, 0x3f81],
    // The largest finite bf16 (0x7f7f), the tie above it rounding to ∞, the largest f32 too.
    [f32(0x7f7f7fff), 0x7f7f], [f32(0x7f7f8000), 0x7f80], [f32(0x7f7fffff), 0x7f80], [-f32(0x7f7fffff), 0xff80],
    // Subnormals: the smallest bf16 one (2⁻¹³³), the tie below it to 0, 3·2⁻¹³⁴ up to 2·2⁻¹³³; the largest subnormal
    // rounding up into the normals.
    [2 ** -133, 0x0001], [2 ** -134, 0], [3 * 2 ** -134, 0x0002], [f32(0x007fffff), 0x0080], [2 ** -126, 0x0080],
  ])('%d → %i', (x, bits) => {
    expect(bf16Bits(x)).toBe(bits);
  });

  it('NaN stays NaN, even one whose payload is only in the low 16 bits, and keeps its sign', () => {
    for (const bits of [0x7fc00000, 0x7f800001, 0xff800001, 0x7fffffff]) {
      const h = bf16Bits(f32(bits));
      expect(Number.isNaN(bf16BitsToNumber(h)), bits.toString(16)).toBe(true);
      expect(h >>> 15).toBe(bits >>> 31);
    }
  });

  it('every finite bf16 converts back to its own bits', () => {
    for (let h = 0; h < 0x10000; h++) {
      if ((h & 0x7f80) === 0x7f80) continue;
      expect(bf16Bits(bf16BitsToNumber(h))).toBe(h);
    }
  });

  it('converts arrays: 2 bytes an element, and back to the rounded f32 values', () => {
    expect(Array.from(toBf16(Float32Array.of(1, -2, 1 + 3 * 2 ** -8)))).toEqual([0x3f80, 0xc000, 0x3f82]);
    expect(Array.from(roundToBf16(Float32Array.of(1 + 2 ** -8, 0.1)))).toEqual([1, bf16BitsToNumber(0x3dcd)]);
  });
});
