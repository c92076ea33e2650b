// float32 values back to a checkpoint's float dtype, as little-endian bytes (the inverse of toFloat32 for the dtypes
// weights are stored in): f16 and bf16 round to nearest even, as torch's `.to(dtype)` does.
import { bf16Bits } from '../cuda/bf16.ts';
import { halfBits } from '../half.ts';

export type FloatDType = 'F32' | 'F16' | 'BF16';

export const FLOAT_DTYPES: readonly FloatDType[] = ['F32', 'F16', 'BF16'];

export function fromFloat32(dtype: FloatDType, data: Float32Array): Uint8Array {
  const size = dtype === 'F32' ? 4 : 2;
  const bytes = new Uint8Array(data.length * size);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < data.length; i++) {
    if (dtype === 'F32') view.setFloat32(i * 4, data[i]!, true);
    else view.setUint16(i * 2, dtype === 'F16' ? halfBits(data[i]!) : bf16Bits(data[i]!), true);
  }
  return bytes;
}
