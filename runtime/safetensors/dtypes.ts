/**
 * The element types a safetensors header may name, with their sizes. Sub-byte
 * types (F4, F6_*) are left out on purpose: their byte length is not
 * product(shape) * itemsize, and nothing in moec produces or consumes them.
 */
export const DTYPE_SIZES = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  I64: 8,
  U64: 8,
  F64: 8,
} as const;

export type DType = keyof typeof DTYPE_SIZES;

export const SUPPORTED_DTYPES: readonly DType[] = Object.keys(DTYPE_SIZES) as DType[];

export function isDType(value: string): value is DType {
  return Object.prototype.hasOwnProperty.call(DTYPE_SIZES, value);
}

export function dtypeSize(dtype: DType): number {
  return DTYPE_SIZES[dtype];
}

/** Safetensors data is little-endian; typed-array views are only usable as-is on such hosts. */
export const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
