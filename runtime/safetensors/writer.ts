import * as fs from 'node:fs';
import { dtypeSize, HOST_IS_LITTLE_ENDIAN, isDType, type DType } from './dtypes.ts';
import { describeSystemError, tensorError, WeightsError } from './errors.ts';
import { elementCount, formatShape, isValidShape } from './shape.ts';
import { replaceAtomically } from '../atomic.ts';

export type TensorToWrite =
  | { name: string; dtype: 'F32'; shape: readonly number[]; data: Float32Array }
  | { name: string; dtype: 'I32'; shape: readonly number[]; data: Int32Array }
  | { name: string; dtype: 'I64'; shape: readonly number[]; data: BigInt64Array }
  | RawTensorToWrite;

/**
 * A tensor of any dtype as little-endian bytes, read only when its turn to be written comes (so copying a
 * checkpoint larger than memory works): `moec convert` copies tensors through unchanged this way.
 */
export interface RawTensorToWrite {
  name: string;
  dtype: DType;
  shape: readonly number[];
  read: () => Uint8Array;
}

const isRaw = (t: TensorToWrite): t is RawTensorToWrite => 'read' in t;
const itemSize = (t: TensorToWrite): number => (isRaw(t) ? dtypeSize(t.dtype) : t.data.BYTES_PER_ELEMENT);
const byteLength = (t: TensorToWrite): number => (isRaw(t) ? Number(elementCount(t.shape)) * dtypeSize(t.dtype) : t.data.byteLength);

const ARRAY_FOR_DTYPE = { F32: Float32Array, I32: Int32Array, I64: BigInt64Array } as const;
type WritableDType = keyof typeof ARRAY_FOR_DTYPE;

function isWritableDType(value: string): value is WritableDType {
  return Object.hasOwn(ARRAY_FOR_DTYPE, value);
}

// fs.writeSync, like readSync, caps one call below 2 GiB.
const MAX_WRITE_BYTES = 1 << 30;

/** The file format is little-endian; on a big-endian host the elements must be swapped. */
function littleEndianBytes(data: Float32Array | Int32Array | BigInt64Array): Uint8Array {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (HOST_IS_LITTLE_ENDIAN) return bytes;
  const size = data.BYTES_PER_ELEMENT;
  const swapped = new Uint8Array(bytes.byteLength);
  for (let i = 0; i < bytes.byteLength; i += size) {
    for (let j = 0; j < size; j++) swapped[i + j] = bytes[i + size - 1 - j];
  }
  return swapped;
}

function writeFully(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.byteLength) {
    done += fs.writeSync(fd, bytes, done, Math.min(bytes.byteLength - done, MAX_WRITE_BYTES));
  }
}

function validate(path: string, tensors: readonly TensorToWrite[], metadata: Record<string, string> | undefined): void {
  const seen = new Set<string>();
  for (const tensor of tensors) {
    const { name, dtype, shape } = tensor;
    if (name === '__metadata__') throw new WeightsError(path, "'__metadata__' is reserved for metadata and cannot name a tensor");
    if (seen.has(name)) throw tensorError(path, name, 'appears more than once in the tensors to write');
    seen.add(name);
    if (isRaw(tensor)) {
      if (!isDType(dtype)) throw tensorError(path, name, `cannot write unknown dtype '${String(dtype)}'`);
      if (!isValidShape(shape)) throw tensorError(path, name, `shape must be an array of non-negative integers, but it is ${JSON.stringify(shape)}`);
      continue;
    }
    const { data } = tensor;
    if (!isWritableDType(dtype)) {
      throw tensorError(path, name, `cannot write dtype '${String(dtype)}' (the writer supports ${Object.keys(ARRAY_FOR_DTYPE).join(', ')})`);
    }
    const expectedArray = ARRAY_FOR_DTYPE[dtype];
    if (!(data instanceof expectedArray)) {
      const actual = (data as object | null)?.constructor?.name ?? String(data);
      throw tensorError(path, name, `dtype ${dtype} needs its data in a ${expectedArray.name}, but got ${actual}`);
    }
    if (!isValidShape(shape)) {
      throw tensorError(path, name, `shape must be an array of non-negative integers, but it is ${JSON.stringify(shape)}`);
    }
    const count = elementCount(shape);
    if (count !== BigInt(data.length)) {
      throw tensorError(path, name, `shape ${formatShape(shape)} has ${count} elements, but the data has ${data.length}`);
    }
  }
  for (const [key, value] of Object.entries(metadata ?? {})) {
    if (typeof value !== 'string') {
      throw new WeightsError(path, `metadata value for '${key}' must be a string, but it is ${typeof value}`);
    }
  }
}

/**
 * Builds the header the way the reference implementation does: tensors ordered
 * by descending alignment then name, so every tensor starts at a multiple of
 * its own item size, and the JSON padded with spaces to a multiple of 8 bytes.
 */
function layout(tensors: readonly TensorToWrite[], metadata: Record<string, string> | undefined): { header: Uint8Array; ordered: TensorToWrite[] } {
  const ordered = [...tensors].sort(
    (a, b) => itemSize(b) - itemSize(a) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
  // Built by hand because a JS object would move integer-like tensor names first.
  const entries: string[] = [];
  if (metadata !== undefined) entries.push(`"__metadata__":${JSON.stringify(metadata)}`);
  let offset = 0;
  for (const t of ordered) {
    const { name, dtype, shape } = t;
    const end = offset + byteLength(t);
    entries.push(`${JSON.stringify(name)}:${JSON.stringify({ dtype, shape, data_offsets: [offset, end] })}`);
    offset = end;
  }
  let json = new TextEncoder().encode(`{${entries.join(',')}}`);
  const padding = (8 - (json.byteLength % 8)) % 8;
  if (padding > 0) {
    const padded = new Uint8Array(json.byteLength + padding).fill(0x20);
    padded.set(json);
    json = padded;
  }
  return { header: json, ordered };
}

/**
 * Writes to `<path>.tmp-<pid>` and renames over `path`, so a crash or a full
 * disk never leaves a truncated file where a reader expects a checkpoint.
 */
export function writeSafetensors(path: string, tensors: readonly TensorToWrite[], metadata?: Record<string, string>): void {
  validate(path, tensors, metadata);
  const { header, ordered } = layout(tensors, metadata);
  let fd: number | undefined;
  try {
    replaceAtomically(path, (temp) => {
      fd = fs.openSync(temp, 'w');
      const prefix = new Uint8Array(8);
      new DataView(prefix.buffer).setBigUint64(0, BigInt(header.byteLength), true);
      writeFully(fd, prefix);
      writeFully(fd, header);
      for (const tensor of ordered) {
        if (!isRaw(tensor)) {
          writeFully(fd, littleEndianBytes(tensor.data));
          continue;
        }
        const bytes = tensor.read();
        if (bytes.byteLength !== byteLength(tensor)) {
          throw tensorError(path, tensor.name, `shape ${formatShape(tensor.shape)} of ${tensor.dtype} takes ${byteLength(tensor)} bytes, but the data has ${bytes.byteLength}`);
        }
        writeFully(fd, bytes);
      }
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      fd = undefined;
    });
  } catch (error) {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        // The write error is the one worth reporting.
      }
    }
    // A raw tensor's reader failing, or its bytes not fitting, already says which file and tensor.
    if (error instanceof WeightsError) throw error;
    throw new WeightsError(path, `cannot write: ${describeSystemError(error)}`, { cause: error });
  }
}
