// A corpus of malformed safetensors files, built at test time: one small pure function per case, each returning
// the file's bytes. Every case starts from a valid file for the model's parameters (`params`: names and shapes) and
// breaks one thing, so whatever a reader reports is about that one thing.

export interface ParamShape {
  name: string;
  shape: number[];
}

interface Entry {
  name: string;
  dtype: string;
  shape: unknown;
  offsets: [number, number];
}

const numel = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const utf8 = (s: string) => new TextEncoder().encode(s);

function u64le(n: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, n, true);
  return b;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** The 8-byte length, the header bytes and the data; `declared` overrides the length the prefix claims. */
export function frame(header: Uint8Array, data: Uint8Array, declared = BigInt(header.byteLength)): Uint8Array {
  return concat(u64le(declared), header, data);
}

/** Header JSON written by hand, so names may repeat and entries keep their order. */
function headerText(entries: readonly Entry[]): string {
  return `{${entries.map((e) => `${JSON.stringify(e.name)}:{"dtype":${JSON.stringify(e.dtype)},"shape":${JSON.stringify(e.shape)},"data_offsets":[${e.offsets.join(',')}]}`).join(',')}}`;
}

/** Deterministic small values; norm weights near one. Never NaN. */
function values(p: ParamShape): Float32Array {
  const v = new Float32Array(numel(p.shape));
  const norm = p.name.endsWith('norm.weight');
  for (let i = 0; i < v.length; i++) v[i] = norm ? 1 : ((i % 13) - 6) * 0.01;
  return v;
}

/** The valid file's parts: one F32 tensor per parameter, laid out back to back. */
function parts(params: readonly ParamShape[]): { entries: Entry[]; data: Float32Array[] } {
  let at = 0;
  const entries: Entry[] = [];
  const data: Float32Array[] = [];
  for (const p of params) {
    const v = values(p);
    entries.push({ name: p.name, dtype: 'F32', shape: p.shape, offsets: [at, at + v.byteLength] });
    data.push(v);
    at += v.byteLength;
  }
  return { entries, data };
}

const bytesOf = (data: readonly Float32Array[]) => concat(...data.map((d) => new Uint8Array(d.buffer, d.byteOffset, d.byteLength)));

function build(entries: readonly Entry[], data: readonly Float32Array[]): Uint8Array {
  return frame(utf8(headerText(entries)), bytesOf(data));
}

/** A valid file: what every other case breaks. */
export function validWeights(params: readonly ParamShape[]): Uint8Array {
  const { entries, data } = parts(params);
  return build(entries, data);
}

/** The file cut 100 bytes short of its end. */
export function truncatedData(params: readonly ParamShape[]): Uint8Array {
  const v = validWeights(params);
  return v.subarray(0, v.byteLength - 100);
}

/** A header length prefix that claims more bytes than the whole file holds. */
export function headerLengthPastFile(params: readonly ParamShape[]): Uint8Array {
  const v = validWeights(params);
  return concat(u64le(BigInt(v.byteLength)), v.subarray(8));
}

/** A header length of 2^40 bytes in a file of a few hundred: nothing may be allocated by that number. */
export function headerLength2e40(params: readonly ParamShape[]): Uint8Array {
  return concat(u64le(2n ** 40n), validWeights(params).subarray(8));
}

/** A header length of 300 MB in a small file. */
export function headerLength300MB(params: readonly ParamShape[]): Uint8Array {
  return concat(u64le(300_000_000n), validWeights(params).subarray(8));
}

/** The second tensor's data_offsets start inside the first one's. */
export function overlappingOffsets(params: readonly ParamShape[]): Uint8Array {
  const { entries, data } = parts(params);
  const [a, b] = [entries[0]!, entries[1]!];
  const shift = b.offsets[0] - a.offsets[0] - 4;
  b.offsets = [b.offsets[0] - shift, b.offsets[1] - shift];
  return build(entries, data);
}

/** The last tensor's data_offsets end past the data region. */
export function offsetsOutOfRange(params: readonly ParamShape[]): Uint8Array {
  const { entries, data } = parts(params);
  const last = entries[entries.length - 1]!;
  last.offsets = [last.offsets[0] + 64, last.offsets[1] + 64];
  return build(entries, data);
}

/** 16 unused bytes between the first and the second tensor (the later offsets moved along). */
export function offsetsWithGap(params: readonly ParamShape[]): Uint8Array {
  const { entries, data } = parts(params);
  for (const e of entries.slice(1)) e.offsets = [e.offsets[0] + 16, e.offsets[1] + 16];
  const gap = new Float32Array(4);
  return build(entries, [data[0]!, gap, ...data.slice(1)]);
}

/** 16 bytes after the last tensor that belong to no tensor. */
export function trailingBytes(params: readonly ParamShape[]): Uint8Array {
  const { entries, data } = parts(params);
  return build(entries, [...data, new Float32Array(4)]);
}

/** A dtype the format does not have, on the first tensor. */
export function unknownDtype(params: readonly ParamShape[]): Uint8Array {
  const { entries, data } = parts(params);
  entries[0]!.dtype = 'Q4_K';
  return build(entries, data);
}

/** The first tensor's shape claims one more row than its bytes hold. */
export function shapeBytesMismatch(params: readonly ParamShape[]): Uint8Array {
  const { entries, data } = parts(params);
  const shape = [...(entries[0]!.shape as number[])];
  shape[0]! += 1;
  entries[0]!.shape = shape;
  return build(entries, data);
}

/** One element of the named tensor set to `value` (NaN, Infinity, -Infinity). */
export function poisonedValue(params: readonly ParamShape[], tensor: string, index: number, value: number): Uint8Array {
  const { entries, data } = parts(params);
  const i = params.findIndex((p) => p.name === tensor);
  if (i < 0) throw new Error(`no parameter ${tensor}`);
  data[i]![index] = value;
  return build(entries, data);
}

/** The first tensor's entry written twice (JSON.parse would keep only the last). */
export function duplicateName(params: readonly ParamShape[]): Uint8Array {
  const { entries, data } = parts(params);
  return build([entries[0]!, ...entries], data);
}

/** A tensor name holding the byte 0xFF, which is not UTF-8. */
export function nonUtf8Name(params: readonly ParamShape[]): Uint8Array {
  const { entries, data } = parts(params);
  entries[0]!.name = 'BAD_NAME';
  const header = utf8(headerText(entries));
  const at = new TextDecoder().decode(header).indexOf('BAD_NAME');
  header[at] = 0xff;
  return frame(header, bytesOf(data));
}

/** A header that is not JSON at all. */
export function headerNotJson(params: readonly ParamShape[]): Uint8Array {
  const { data } = parts(params);
  return frame(utf8('{"embed": {"dtype": "F32",'), bytesOf(data));
}

/** A header that is JSON but an array, not an object. */
export function headerNotObject(params: readonly ParamShape[]): Uint8Array {
  const { data } = parts(params);
  return frame(utf8('[1, 2, 3]'), bytesOf(data));
}

/** The first tensor's first dimension negated. */
export function negativeShape(params: readonly ParamShape[]): Uint8Array {
  const { entries, data } = parts(params);
  const shape = [...(entries[0]!.shape as number[])];
  shape[0] = -shape[0]!;
  entries[0]!.shape = shape;
  return build(entries, data);
}

/** The first tensor's first dimension halved into a fraction. */
export function nonIntegerShape(params: readonly ParamShape[]): Uint8Array {
  const { entries, data } = parts(params);
  const shape = [...(entries[0]!.shape as number[])];
  shape[0] = shape[0]! + 0.5;
  entries[0]!.shape = shape;
  return build(entries, data);
}

/** A valid file without the named tensor. */
export function missingTensor(params: readonly ParamShape[], tensor: string): Uint8Array {
  return validWeights(params.filter((p) => p.name !== tensor));
}

/** A valid file with the named 2-D tensor stored transposed (same bytes, the other shape). */
export function transposedTensor(params: readonly ParamShape[], tensor: string): Uint8Array {
  return validWeights(params.map((p) => (p.name === tensor ? { name: p.name, shape: [...p.shape].reverse() } : p)));
}
