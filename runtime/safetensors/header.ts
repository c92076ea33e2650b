import type { DType } from './dtypes.ts';
import { dtypeSize, isDType, SUPPORTED_DTYPES } from './dtypes.ts';
import { tensorError, WeightsError } from './errors.ts';
import { findDuplicateKey } from './json-keys.ts';
import { elementCount, formatShape, isValidShape } from './shape.ts';

export interface TensorInfo {
  name: string;
  dtype: DType;
  shape: number[];
  /** Absolute position of the first byte in `file` (not relative to the data region). */
  byteOffset: number;
  byteLength: number;
  /** The file holding the bytes, which differs between tensors of a sharded checkpoint. */
  file: string;
}

export interface ParsedHeader {
  tensors: Map<string, TensorInfo>;
  metadata: Record<string, string>;
}

/** The reference implementation's limit: real headers are at most a few MB. */
export const MAX_HEADER_BYTES = 100_000_000;
export const LENGTH_PREFIX_BYTES = 8;
const METADATA_KEY = '__metadata__';

export function describeJsonValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${JSON.stringify(value)}`;
}

/**
 * Where strict decoding first fails: the shortest prefix that a streaming decoder refuses ends at the bad byte
 * (a prefix that only cuts a character short is not refused). Binary search, so only failures pay, log n decodes.
 */
function firstInvalidUtf8(bytes: Uint8Array): number {
  const refuses = (n: number) => {
    try {
      new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(0, n), { stream: true });
      return false;
    } catch {
      return true;
    }
  };
  let lo = 1;
  let hi = bytes.byteLength;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (refuses(mid)) hi = mid;
    else lo = mid + 1;
  }
  return lo - 1;
}

/** Strict decoding: a lenient decoder would turn bad bytes into U+FFFD and accept a corrupt header. */
export function decodeJsonObject(file: string, bytes: Uint8Array, what: string): { text: string; value: Record<string, unknown> } {
  let text: string;
  try {
    // ignoreBOM keeps a BOM in the text so JSON.parse rejects it, as the reference does.
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    const at = firstInvalidUtf8(bytes);
    throw new WeightsError(file, `${what} is not valid UTF-8 (byte ${at} of the ${what} is 0x${bytes[at]!.toString(16).toUpperCase().padStart(2, '0')}, the first that is not part of a UTF-8 character)`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new WeightsError(file, `${what} is not valid JSON (${reason})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new WeightsError(file, `${what} must be a JSON object, but it is ${describeJsonValue(value)}`);
  }
  return { text, value: value as Record<string, unknown> };
}

/**
 * Validates everything the header claims against the file size before any
 * tensor byte is read, so later reads can trust offsets and lengths.
 */
export function parseHeader(file: string, headerBytes: Uint8Array, fileSize: number): ParsedHeader {
  const { text, value: header } = decodeJsonObject(file, headerBytes, 'header');

  const duplicate = findDuplicateKey(text);
  if (duplicate !== undefined) {
    if (duplicate.path.length === 0) {
      throw new WeightsError(
        file,
        `tensor '${duplicate.key}' appears more than once in the header (JSON.parse would silently keep only the last one)`,
        { tensor: duplicate.key },
      );
    }
    const owner = duplicate.path[0];
    throw new WeightsError(file, `header entry '${owner}' has the key '${duplicate.key}' more than once`, {
      tensor: owner === METADATA_KEY ? undefined : owner,
    });
  }

  const metadata = parseMetadata(file, header[METADATA_KEY]);
  const dataStart = LENGTH_PREFIX_BYTES + headerBytes.byteLength;
  const dataSize = fileSize - dataStart;

  const tensors = new Map<string, TensorInfo>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === METADATA_KEY) continue;
    tensors.set(name, parseEntry(file, name, entry, dataStart, dataSize, fileSize));
  }
  checkOverlaps(file, tensors, dataStart);
  checkCoverage(file, tensors, dataStart, dataSize);
  return { tensors, metadata };
}

function parseMetadata(file: string, value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new WeightsError(file, `__metadata__ must be an object of strings, but it is ${describeJsonValue(value)}`);
  }
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== 'string') {
      throw new WeightsError(file, `__metadata__ must be an object of strings, but '${key}' is ${describeJsonValue(item)}`);
    }
  }
  return value as Record<string, string>;
}

function parseEntry(
  file: string,
  name: string,
  entry: unknown,
  dataStart: number,
  dataSize: number,
  fileSize: number,
): TensorInfo {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    throw tensorError(file, name, `header entry must be an object with dtype, shape and data_offsets, but it is ${describeJsonValue(entry)}`);
  }
  const fields = entry as Record<string, unknown>;
  for (const field of ['dtype', 'shape', 'data_offsets']) {
    if (!Object.hasOwn(fields, field)) throw tensorError(file, name, `header entry has no '${field}'`);
  }

  const dtype = fields.dtype;
  if (typeof dtype !== 'string' || !isDType(dtype)) {
    const shown = typeof dtype === 'string' ? `'${dtype}'` : JSON.stringify(dtype);
    throw tensorError(file, name, `unknown dtype ${shown} (supported: ${SUPPORTED_DTYPES.join(', ')})`);
  }

  const shape = fields.shape;
  if (!isValidShape(shape)) {
    throw tensorError(file, name, `shape must be an array of non-negative integers, but it is ${JSON.stringify(shape)}`);
  }

  const offsets = fields.data_offsets;
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) ||
    offsets[0] > offsets[1]
  ) {
    throw tensorError(file, name, `data_offsets must be [begin, end] with integers 0 <= begin <= end, but it is ${JSON.stringify(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];

  const expectedBytes = elementCount(shape) * BigInt(dtypeSize(dtype));
  const actualBytes = BigInt(end - begin);
  if (expectedBytes !== actualBytes) {
    throw tensorError(
      file,
      name,
      `dtype ${dtype} and shape ${formatShape(shape)} need ${expectedBytes} bytes, but data_offsets [${begin}, ${end}] cover ${actualBytes} bytes`,
    );
  }

  if (end > dataSize) {
    throw tensorError(
      file,
      name,
      `data_offsets [${begin}, ${end}] go past the end of the data region, which is ${dataSize} bytes (the file is ${fileSize} bytes, the data starts at byte ${dataStart})`,
    );
  }

  return { name, dtype, shape, byteOffset: dataStart + begin, byteLength: end - begin, file };
}

/** Empty tensors occupy no bytes, so they cannot overlap anything. */
function checkOverlaps(file: string, tensors: Map<string, TensorInfo>, dataStart: number): void {
  const occupied = [...tensors.values()]
    .filter((t) => t.byteLength > 0)
    .sort((a, b) => a.byteOffset - b.byteOffset || a.byteLength - b.byteLength);
  let furthest: TensorInfo | undefined;
  for (const tensor of occupied) {
    if (furthest !== undefined && tensor.byteOffset < furthest.byteOffset + furthest.byteLength) {
      const range = (t: TensorInfo): string =>
        `[${t.byteOffset - dataStart}, ${t.byteOffset - dataStart + t.byteLength}]`;
      throw tensorError(
        file,
        tensor.name,
        `data_offsets ${range(tensor)} overlap tensor '${furthest.name}' at ${range(furthest)}`,
      );
    }
    if (furthest === undefined || tensor.byteOffset + tensor.byteLength > furthest.byteOffset + furthest.byteLength) {
      furthest = tensor;
    }
  }
}

/**
 * The reference implementation requires the tensors to tile the data region: no gap between two tensors and no
 * byte after the last one. Bytes that belong to no tensor are a sign of a corrupt or tampered file.
 * Runs after checkOverlaps, so the occupied ranges are disjoint.
 */
function checkCoverage(file: string, tensors: Map<string, TensorInfo>, dataStart: number, dataSize: number): void {
  const occupied = [...tensors.values()].filter((t) => t.byteLength > 0).sort((a, b) => a.byteOffset - b.byteOffset);
  let covered = 0;
  for (const t of occupied) {
    const begin = t.byteOffset - dataStart;
    if (begin > covered) {
      throw tensorError(file, t.name, `data_offsets [${begin}, ${begin + t.byteLength}] leave bytes [${covered}, ${begin}] of the data region unused (the tensors must cover it exactly, one after another)`);
    }
    covered = begin + t.byteLength;
  }
  if (covered < dataSize) {
    throw new WeightsError(file, `the tensors cover ${covered} bytes of the ${dataSize}-byte data region: bytes [${covered}, ${dataSize}] belong to no tensor (was something appended to the file?)`);
  }
}
