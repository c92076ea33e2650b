import type { DType } from './dtypes.ts';
import { HOST_IS_LITTLE_ENDIAN } from './dtypes.ts';

/** IEEE 754 half precision, including subnormals, infinities and NaN. */
export function f16BitsToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** bfloat16 is the upper half of a float32, so widening is a shift (NaN payloads survive). */
export function bf16BitsToNumber(bits: number): number {
  const scratch = new Uint32Array([(bits & 0xffff) << 16]);
  return new Float32Array(scratch.buffer)[0];
}

/** float8 e4m3 "fn" variant (the one torch and safetensors mean): no infinities, S.1111.111 is NaN. */
export function f8e4m3BitsToNumber(bits: number): number {
  const sign = bits & 0x80 ? -1 : 1;
  const exponent = (bits >> 3) & 0x0f;
  const mantissa = bits & 0x07;
  if (exponent === 0x0f && mantissa === 0x07) return NaN;
  if (exponent === 0) return sign * mantissa * 2 ** -9;
  return sign * (1 + mantissa / 8) * 2 ** (exponent - 7);
}

/** float8 e5m2 is exactly the upper byte of a float16. */
export function f8e5m2BitsToNumber(bits: number): number {
  return f16BitsToNumber((bits & 0xff) << 8);
}

// Tables make F16 conversion of multi-GB checkpoints a lookup per element instead of
// a few float multiplications; built on first use so importing the module stays free.
let f16Table: Float32Array | undefined;
function getF16Table(): Float32Array {
  if (f16Table === undefined) {
    f16Table = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) f16Table[i] = f16BitsToNumber(i);
  }
  return f16Table;
}

function byteTable(decode: (bits: number) => number): Float32Array {
  const table = new Float32Array(256);
  for (let i = 0; i < 256; i++) table[i] = decode(i);
  return table;
}
let e4m3Table: Float32Array | undefined;
let e5m2Table: Float32Array | undefined;

/**
 * Converts little-endian tensor bytes to float32. 64-bit integers go through
 * Number and round to the nearest float32 like every other wide type.
 */
export function toFloat32(dtype: DType, bytes: Uint8Array): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case 'F32': {
      const count = bytes.byteLength / 4;
      // Zero-copy when the bytes are already in the right order and aligned.
      if (HOST_IS_LITTLE_ENDIAN && bytes.byteOffset % 4 === 0) {
        return new Float32Array(bytes.buffer, bytes.byteOffset, count);
      }
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
      return out;
    }
    case 'F64': {
      const out = new Float32Array(bytes.byteLength / 8);
      for (let i = 0; i < out.length; i++) out[i] = view.getFloat64(i * 8, true);
      return out;
    }
    case 'BF16': {
      const out = new Float32Array(bytes.byteLength / 2);
      // Writing bit patterns (not values) keeps NaN payloads and signed zeros exact.
      const outBits = new Uint32Array(out.buffer);
      for (let i = 0; i < out.length; i++) outBits[i] = view.getUint16(i * 2, true) << 16;
      return out;
    }
    case 'F16': {
      const table = getF16Table();
      const out = new Float32Array(bytes.byteLength / 2);
      for (let i = 0; i < out.length; i++) out[i] = table[view.getUint16(i * 2, true)];
      return out;
    }
    case 'F8_E4M3': {
      e4m3Table ??= byteTable(f8e4m3BitsToNumber);
      return mapBytes(bytes, e4m3Table);
    }
    case 'F8_E5M2': {
      e5m2Table ??= byteTable(f8e5m2BitsToNumber);
      return mapBytes(bytes, e5m2Table);
    }
    case 'BOOL': {
      const out = new Float32Array(bytes.byteLength);
      for (let i = 0; i < out.length; i++) out[i] = bytes[i] === 0 ? 0 : 1;
      return out;
    }
    case 'U8':
      return Float32Array.from(bytes);
    case 'I8':
      return Float32Array.from(new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    case 'I16': {
      const out = new Float32Array(bytes.byteLength / 2);
      for (let i = 0; i < out.length; i++) out[i] = view.getInt16(i * 2, true);
      return out;
    }
    case 'U16': {
      const out = new Float32Array(bytes.byteLength / 2);
      for (let i = 0; i < out.length; i++) out[i] = view.getUint16(i * 2, true);
      return out;
    }
    case 'I32': {
      const out = new Float32Array(bytes.byteLength / 4);
      for (let i = 0; i < out.length; i++) out[i] = view.getInt32(i * 4, true);
      return out;
    }
    case 'U32': {
      const out = new Float32Array(bytes.byteLength / 4);
      for (let i = 0; i < out.length; i++) out[i] = view.getUint32(i * 4, true);
      return out;
    }
    case 'I64': {
      const out = new Float32Array(bytes.byteLength / 8);
      for (let i = 0; i < out.length; i++) out[i] = Number(view.getBigInt64(i * 8, true));
      return out;
    }
    case 'U64': {
      const out = new Float32Array(bytes.byteLength / 8);
      for (let i = 0; i < out.length; i++) out[i] = Number(view.getBigUint64(i * 8, true));
      return out;
    }
  }
}

function mapBytes(bytes: Uint8Array, table: Float32Array): Float32Array {
  const out = new Float32Array(bytes.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = table[bytes[i]];
  return out;
}
