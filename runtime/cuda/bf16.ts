// IEEE 754 float32 → bfloat16 (the top 16 bits of a float32), rounded to nearest even as PyTorch's
// `tensor.to(torch.bfloat16)` and CUDA's __float2bfloat16_rn do: for the matrix weights a CUDA program stores as
// bf16 (CudaProgram.load uploads these words, 2 bytes an element).

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/**
 * The bf16 bit pattern nearest to `x`, ties to even: bf16 has float32's exponent, so rounding the low 16 bits of the
 * float32's pattern away (adding 0x7fff plus the kept part's lowest bit) is the whole conversion, subnormals and the
 * carry into the exponent (up to ∞) included. NaN stays a quiet NaN (rounding could turn a NaN whose payload is only in
 * the low bits into ∞).
 */
export function bf16Bits(x: number): number {
  f32[0] = x;
  return roundBits(u32[0]!);
}

/** The bf16 pattern of the float32 whose bits are `b`. */
function roundBits(b: number): number {
  if ((b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff) !== 0) return ((b >>> 16) & 0x8000) | 0x7fc0;
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}

/** An array's bf16 bit patterns (read through its bits: a layer's weights are billions of elements). */
export function toBf16(data: Float32Array): Uint16Array {
  const bits = new Uint32Array(data.buffer, data.byteOffset, data.length);
  const out = new Uint16Array(data.length);
  for (let i = 0; i < bits.length; i++) out[i] = roundBits(bits[i]!);
  return out;
}

/** The float32 values of an array rounded to bf16 (what a bf16-stored weight holds), for references on the host. */
export function roundToBf16(data: Float32Array): Float32Array {
  const bits = new Uint32Array(data.length);
  for (let i = 0; i < data.length; i++) bits[i] = bf16Bits(data[i]!) << 16;
  return new Float32Array(bits.buffer);
}
