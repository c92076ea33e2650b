import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bf16BitsToNumber,
  checkTensors,
  f16BitsToNumber,
  f8e4m3BitsToNumber,
  f8e5m2BitsToNumber,
  openCheckpoint,
  openSafetensors,
  SUPPORTED_DTYPES,
  WeightsError,
  writeSafetensors,
} from '../../runtime/safetensors/index.ts';
import type { TensorSource, TensorToWrite } from '../../runtime/safetensors/index.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const FIXTURES = path.resolve(HERE, '../../../shared/fixtures/hf');
const MODELS = ['mixtral', 'olmoe', 'switch'] as const;
const fixture = (model: string, file: string): string => path.join(FIXTURES, model, file);

let tmp = '';
let counter = 0;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'moec-safetensors-'));
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});
function tmpPath(name = 'test.safetensors'): string {
  const dir = path.join(tmp, `case-${counter++}`);
  fs.mkdirSync(dir);
  return path.join(dir, name);
}

function u64(value: bigint): Uint8Array {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, value, true);
  return bytes;
}

/** A file with an arbitrary header, so hostile headers can be written verbatim. */
function rawFile(header: string | Uint8Array, data: Uint8Array | number = 0, headerLength?: bigint): string {
  const headerBytes = typeof header === 'string' ? new TextEncoder().encode(header) : header;
  const dataBytes = typeof data === 'number' ? new Uint8Array(data) : data;
  const file = tmpPath();
  fs.writeFileSync(file, Buffer.concat([u64(headerLength ?? BigInt(headerBytes.byteLength)), headerBytes, dataBytes]));
  return file;
}

interface RawTensor {
  name: string;
  dtype: string;
  shape: number[];
  bytes: Uint8Array;
}
/** A well-formed file of any dtype, laid out contiguously in the given order. */
function buildFile(tensors: RawTensor[]): string {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.bytes.byteLength] };
    offset += t.bytes.byteLength;
  }
  return rawFile(JSON.stringify(header), Buffer.concat(tensors.map((t) => t.bytes)));
}

function u16le(values: number[]): Uint8Array {
  const bytes = new Uint8Array(values.length * 2);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => view.setUint16(i * 2, v, true));
  return bytes;
}

function thrown(fn: () => unknown): WeightsError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(WeightsError);
    return error as WeightsError;
  }
  throw new Error('expected a WeightsError, but nothing was thrown');
}

function expectError(fn: () => unknown, message: string): WeightsError {
  const error = thrown(fn);
  expect(error.message).toBe(message);
  return error;
}

const entry = (dtype: string, shape: unknown, offsets: unknown): Record<string, unknown> => ({
  dtype,
  shape,
  data_offsets: offsets,
});
function headerFile(header: Record<string, unknown>, dataBytes: number): string {
  return rawFile(JSON.stringify(header), dataBytes);
}

describe('reading the Hugging Face fixtures', () => {
  it('reads the mixtral weights with exact values', () => {
    const file = openSafetensors(fixture('mixtral', 'model.safetensors'));
    try {
      expect(file.tensors.size).toBe(41);
      expect(file.metadata).toEqual({ format: 'pt' });
      const norm = file.tensors.get('model.norm.weight');
      expect(norm).toMatchObject({ name: 'model.norm.weight', dtype: 'F32', shape: [64], byteLength: 256 });
      const values = file.readF32('model.norm.weight');
      expect(values.length).toBe(64);
      expect([...values.slice(0, 4)]).toEqual([0.9640064835548401, 1.0090545415878296, 0.9871309995651245, 1.0284490585327148]);
      expect(values.reduce((a, b) => a + b, 0)).toBeCloseTo(64.25171118974686, 4);
      const head = file.readF32('lm_head.weight');
      expect(file.tensors.get('lm_head.weight')?.shape).toEqual([512, 64]);
      expect([...head.slice(0, 2)]).toEqual([-0.03608078137040138, -0.023175861686468124]);
      expect(file.readRaw('model.norm.weight').byteLength).toBe(256);
    } finally {
      file.close();
    }
  });

  it('reads a scalar and integer-valued data from the mixtral reference', () => {
    const file = openSafetensors(fixture('mixtral', 'reference.safetensors'));
    try {
      expect(file.metadata).toEqual({});
      expect(file.tensors.get('aux_loss')?.shape).toEqual([]);
      expect([...file.readF32('aux_loss')]).toEqual([2.193589687347412]);
      expect([...file.readF32('input.input_ids').slice(0, 4)]).toEqual([351, 11, 337, 326]);
    } finally {
      file.close();
    }
  });

  it('reads olmoe and switch values', () => {
    const olmoe = openSafetensors(fixture('olmoe', 'model.safetensors'));
    expect(olmoe.tensors.size).toBe(117);
    expect(olmoe.readF32('model.norm.weight')[0]).toBe(1.0236583948135376);
    olmoe.close();
    const switchModel = openSafetensors(fixture('switch', 'model.safetensors'));
    expect(switchModel.tensors.size).toBe(149);
    expect(switchModel.readF32('decoder.block.0.layer.0.SelfAttention.k.weight')[0]).toBe(0.2320917248725891);
    switchModel.close();
    const reference = openSafetensors(fixture('switch', 'reference.safetensors'));
    expect(reference.tensors.get('hook.decoder.block.1.layer.2.mlp.router.1')?.shape).toEqual([16, 1, 8]);
    expect(reference.readF32('decoder_hidden_states.1')[1]).toBe(-2.1101603507995605);
    reference.close();
  });

  it('reads every tensor of every fixture, and the tensors tile the data region', () => {
    for (const model of MODELS) {
      for (const name of ['model.safetensors', 'reference.safetensors']) {
        const file = openSafetensors(fixture(model, name));
        try {
          const infos = [...file.tensors.values()].sort((a, b) => a.byteOffset - b.byteOffset);
          const last = infos[infos.length - 1];
          expect(last.byteOffset + last.byteLength).toBe(fs.statSync(file.path).size);
          for (const info of infos) {
            const values = file.readF32(info.name);
            expect(values.length).toBe(info.shape.reduce((a, b) => a * b, 1));
            expect(values.every(Number.isFinite)).toBe(true);
          }
        } finally {
          file.close();
        }
      }
    }
  });

  it('refuses to read after close and names unknown tensors', () => {
    const p = fixture('mixtral', 'model.safetensors');
    const file = openSafetensors(p);
    expectError(() => file.readF32('model.nrom.weight'), `${p}: there is no tensor named 'model.nrom.weight'`);
    file.close();
    file.close();
    const error = expectError(
      () => file.readRaw('model.norm.weight'),
      `${p}: cannot read tensor 'model.norm.weight': the file was closed`,
    );
    expect(error.tensor).toBe('model.norm.weight');
  });
});

describe('dtype conversion', () => {
  it('converts bf16 bit patterns', () => {
    expect(bf16BitsToNumber(0x3f80)).toBe(1);
    expect(bf16BitsToNumber(0xc000)).toBe(-2);
    expect(bf16BitsToNumber(0x3e80)).toBe(0.25);
    expect(bf16BitsToNumber(0x4049)).toBe(3.140625);
    expect(bf16BitsToNumber(0x7f80)).toBe(Infinity);
    expect(bf16BitsToNumber(0xff80)).toBe(-Infinity);
    expect(bf16BitsToNumber(0x7fc0)).toBeNaN();
    expect(Object.is(bf16BitsToNumber(0x8000), -0)).toBe(true);
    expect(bf16BitsToNumber(0x0001)).toBe(2 ** -133); // smallest bf16 subnormal
  });

  it('converts f16 bit patterns, subnormals included', () => {
    expect(f16BitsToNumber(0x3c00)).toBe(1);
    expect(f16BitsToNumber(0xc000)).toBe(-2);
    expect(f16BitsToNumber(0x3555)).toBe(0.333251953125);
    expect(f16BitsToNumber(0x7bff)).toBe(65504);
    expect(f16BitsToNumber(0x0400)).toBe(2 ** -14); // smallest normal
    expect(f16BitsToNumber(0x0001)).toBe(2 ** -24); // smallest subnormal
    expect(f16BitsToNumber(0x03ff)).toBe(1023 * 2 ** -24); // largest subnormal
    expect(f16BitsToNumber(0x8001)).toBe(-(2 ** -24));
    expect(f16BitsToNumber(0x7c00)).toBe(Infinity);
    expect(f16BitsToNumber(0xfc00)).toBe(-Infinity);
    expect(f16BitsToNumber(0x7e00)).toBeNaN();
    expect(f16BitsToNumber(0x7c01)).toBeNaN();
    expect(Object.is(f16BitsToNumber(0x8000), -0)).toBe(true);
  });

  it('converts float8 bit patterns', () => {
    expect(f8e4m3BitsToNumber(0x38)).toBe(1);
    expect(f8e4m3BitsToNumber(0x7e)).toBe(448);
    expect(f8e4m3BitsToNumber(0x01)).toBe(2 ** -9);
    expect(f8e4m3BitsToNumber(0xc0)).toBe(-2);
    expect(f8e4m3BitsToNumber(0x7f)).toBeNaN();
    expect(f8e5m2BitsToNumber(0x3c)).toBe(1);
    expect(f8e5m2BitsToNumber(0x7b)).toBe(57344);
    expect(f8e5m2BitsToNumber(0x7c)).toBe(Infinity);
    expect(f8e5m2BitsToNumber(0x01)).toBe(2 ** -16);
  });

  it('reads BF16 and F16 tensors from a file as float32', () => {
    const p = buildFile([
      { name: 'bf16', dtype: 'BF16', shape: [2, 3], bytes: u16le([0x3f80, 0xc000, 0x7f80, 0xff80, 0x7fc0, 0x3e80]) },
      { name: 'f16', dtype: 'F16', shape: [7], bytes: u16le([0x3c00, 0x0001, 0x03ff, 0x7c00, 0xfc00, 0x7e00, 0x8000]) },
    ]);
    const file = openSafetensors(p);
    const bf16 = file.readF32('bf16');
    expect([...bf16.slice(0, 4)]).toEqual([1, -2, Infinity, -Infinity]);
    expect(bf16[4]).toBeNaN();
    expect(bf16[5]).toBe(0.25);
    const f16 = file.readF32('f16');
    expect([...f16.slice(0, 5)]).toEqual([1, Math.fround(2 ** -24), Math.fround(1023 * 2 ** -24), Infinity, -Infinity]);
    expect(f16[5]).toBeNaN();
    expect(Object.is(f16[6], -0)).toBe(true);
    file.close();
  });

  it('reads F64 and integer tensors as float32', () => {
    const f64 = new Float64Array([1.5, -0.1, 1e300]);
    const i64 = new BigInt64Array([-3n, 2n ** 40n, 0n]);
    const u64 = new BigUint64Array([7n]);
    const i32 = new Int32Array([-2147483648, 5]);
    const u32 = new Uint32Array([4294967295]);
    const i16 = new Int16Array([-32768, 12]);
    const u16 = new Uint16Array([65535]);
    const i8 = new Int8Array([-128, 127]);
    const bytes = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    const p = buildFile([
      { name: 'f64', dtype: 'F64', shape: [3], bytes: bytes(f64) },
      { name: 'i64', dtype: 'I64', shape: [3], bytes: bytes(i64) },
      { name: 'u64', dtype: 'U64', shape: [1], bytes: bytes(u64) },
      { name: 'i32', dtype: 'I32', shape: [2], bytes: bytes(i32) },
      { name: 'u32', dtype: 'U32', shape: [1], bytes: bytes(u32) },
      { name: 'i16', dtype: 'I16', shape: [2], bytes: bytes(i16) },
      { name: 'u16', dtype: 'U16', shape: [1], bytes: bytes(u16) },
      { name: 'i8', dtype: 'I8', shape: [2], bytes: bytes(i8) },
      { name: 'u8', dtype: 'U8', shape: [2], bytes: new Uint8Array([0, 255]) },
      { name: 'bool', dtype: 'BOOL', shape: [3], bytes: new Uint8Array([0, 1, 2]) },
      { name: 'e4m3', dtype: 'F8_E4M3', shape: [2], bytes: new Uint8Array([0x38, 0xc0]) },
      { name: 'empty', dtype: 'F32', shape: [0, 4], bytes: new Uint8Array(0) },
    ]);
    const file = openSafetensors(p);
    expect([...file.readF32('f64')]).toEqual([1.5, Math.fround(-0.1), Infinity]);
    expect([...file.readF32('i64')]).toEqual([-3, 2 ** 40, 0]);
    expect([...file.readF32('u64')]).toEqual([7]);
    expect([...file.readF32('i32')]).toEqual([-2147483648, 5]);
    expect([...file.readF32('u32')]).toEqual([4294967296]);
    expect([...file.readF32('i16')]).toEqual([-32768, 12]);
    expect([...file.readF32('u16')]).toEqual([65535]);
    expect([...file.readF32('i8')]).toEqual([-128, 127]);
    expect([...file.readF32('u8')]).toEqual([0, 255]);
    expect([...file.readF32('bool')]).toEqual([0, 1, 1]);
    expect([...file.readF32('e4m3')]).toEqual([1, -2]);
    expect(file.readF32('empty').length).toBe(0);
    expect([...file.readRaw('u8')]).toEqual([0, 255]);
    file.close();
  });

  it('reads a tensor stored beyond 4 GB without reading the file whole', () => {
    // A sparse file: the gap costs no disk, and reading the whole file would take gigabytes.
    const far = 5 * 2 ** 30;
    // The gap is a tensor of its own: the tensors must tile the data region.
    const header = JSON.stringify({ near: entry('F32', [1], [0, 4]), gap: entry('U8', [far - 4], [4, far]), far: entry('F32', [2], [far, far + 8]) });
    const p = rawFile(header, new Uint8Array(new Float32Array([7]).buffer));
    const dataStart = 8 + header.length;
    const fd = fs.openSync(p, 'r+');
    fs.writeSync(fd, new Uint8Array(new Float32Array([1.25, -3]).buffer), 0, 8, dataStart + far);
    fs.closeSync(fd);
    const file = openSafetensors(p);
    expect(file.tensors.get('far')?.byteOffset).toBe(dataStart + far);
    expect([...file.readF32('far')]).toEqual([1.25, -3]);
    expect([...file.readF32('near')]).toEqual([7]);
    file.close();
  });
});

describe('writer', () => {
  it('reproduces Hugging Face files byte for byte', () => {
    for (const model of MODELS) {
      for (const name of ['model.safetensors', 'reference.safetensors']) {
        const source = openSafetensors(fixture(model, name));
        const tensors: TensorToWrite[] = [...source.tensors.values()].map((info) => ({
          name: info.name,
          dtype: 'F32',
          shape: info.shape,
          data: source.readF32(info.name),
        }));
        const out = tmpPath();
        writeSafetensors(out, tensors, Object.keys(source.metadata).length > 0 ? source.metadata : undefined);
        source.close();
        expect(Buffer.compare(fs.readFileSync(out), fs.readFileSync(fixture(model, name)))).toBe(0);
      }
    }
  });

  it('round-trips F32, I32 and I64 with metadata and odd shapes', () => {
    const out = tmpPath('round.safetensors');
    writeSafetensors(
      out,
      [
        { name: 'w', dtype: 'F32', shape: [2, 2], data: new Float32Array([1, -2.5, 3e-8, Infinity]) },
        { name: 'scalar', dtype: 'F32', shape: [], data: new Float32Array([42]) },
        { name: 'ids', dtype: 'I32', shape: [3], data: new Int32Array([-1, 0, 2147483647]) },
        { name: 'big', dtype: 'I64', shape: [2], data: new BigInt64Array([-(2n ** 62n), 9n]) },
        { name: 'empty', dtype: 'F32', shape: [3, 0], data: new Float32Array(0) },
        { name: '10', dtype: 'I32', shape: [1], data: new Int32Array([10]) },
      ],
      { format: 'pt', note: 'written by moec' },
    );
    const bytes = fs.readFileSync(out);
    const headerLength = Number(bytes.readBigUInt64LE(0));
    expect(headerLength % 8).toBe(0);
    const headerText = bytes.subarray(8, 8 + headerLength).toString('utf8');
    expect(headerText.startsWith('{"__metadata__":{"format":"pt","note":"written by moec"},"big":')).toBe(true);
    expect(headerText.trimEnd().endsWith('}')).toBe(true);
    expect(fs.readdirSync(path.dirname(out))).toEqual(['round.safetensors']);

    const file = openSafetensors(out);
    expect(file.metadata).toEqual({ format: 'pt', note: 'written by moec' });
    expect(file.tensors.get('big')).toMatchObject({ dtype: 'I64', byteOffset: 8 + headerLength });
    for (const info of file.tensors.values()) {
      expect(info.byteOffset % (info.dtype === 'I64' ? 8 : 4)).toBe(0);
    }
    expect([...file.readF32('w')]).toEqual([1, -2.5, Math.fround(3e-8), Infinity]);
    expect(file.tensors.get('scalar')?.shape).toEqual([]);
    expect([...file.readF32('scalar')]).toEqual([42]);
    expect([...new Int32Array(file.readRaw('ids').buffer)]).toEqual([-1, 0, 2147483647]);
    expect([...new BigInt64Array(file.readRaw('big').buffer)]).toEqual([-(2n ** 62n), 9n]);
    expect(file.tensors.get('empty')).toMatchObject({ shape: [3, 0], byteLength: 0 });
    expect([...file.readF32('10')]).toEqual([10]);
    file.close();
  });

  it('writes from a typed array that is a view into a larger buffer', () => {
    const backing = new Float32Array([9, 9, 1, 2, 3, 9]);
    const out = tmpPath();
    writeSafetensors(out, [{ name: 'v', dtype: 'F32', shape: [3], data: backing.subarray(2, 5) }]);
    const file = openSafetensors(out);
    expect([...file.readF32('v')]).toEqual([1, 2, 3]);
    file.close();
  });

  it('replaces an existing file atomically', () => {
    const out = tmpPath();
    writeSafetensors(out, [{ name: 'a', dtype: 'F32', shape: [1], data: new Float32Array([1]) }]);
    writeSafetensors(out, [{ name: 'b', dtype: 'F32', shape: [1], data: new Float32Array([2]) }]);
    const file = openSafetensors(out);
    expect([...file.tensors.keys()]).toEqual(['b']);
    file.close();
    expect(fs.readdirSync(path.dirname(out))).toEqual([path.basename(out)]);
  });

  it('removes the temporary file when the final rename fails', () => {
    const out = tmpPath('occupied');
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'keep'), 'x');
    const error = thrown(() => writeSafetensors(out, [{ name: 'a', dtype: 'F32', shape: [1], data: new Float32Array([1]) }]));
    expect(error.message.startsWith(`${out}: cannot write: `)).toBe(true);
    expect(fs.readdirSync(path.dirname(out))).toEqual(['occupied']);
  });

  it('reports a missing directory', () => {
    const out = path.join(tmp, 'no-such-dir', 'x.safetensors');
    expectError(
      () => writeSafetensors(out, [{ name: 'a', dtype: 'F32', shape: [1], data: new Float32Array([1]) }]),
      `${out}: cannot write: no such file or directory`,
    );
  });

  it('rejects inconsistent tensors before creating any file', () => {
    const out = tmpPath();
    const dir = path.dirname(out);
    expectError(
      () => writeSafetensors(out, [{ name: 'w', dtype: 'F32', shape: [2, 3], data: new Float32Array(5) }]),
      `${out}: tensor 'w': shape [2, 3] has 6 elements, but the data has 5`,
    );
    const mismatched = { name: 'w', dtype: 'I32', shape: [1], data: new Float32Array(1) } as unknown as TensorToWrite;
    expectError(() => writeSafetensors(out, [mismatched]), `${out}: tensor 'w': dtype I32 needs its data in a Int32Array, but got Float32Array`);
    const f16 = { name: 'h', dtype: 'F16', shape: [1], data: new Float32Array(1) } as unknown as TensorToWrite;
    expectError(() => writeSafetensors(out, [f16]), `${out}: tensor 'h': cannot write dtype 'F16' (the writer supports F32, I32, I64)`);
    const one = { name: 'w', dtype: 'F32', shape: [1], data: new Float32Array(1) } as const;
    expectError(() => writeSafetensors(out, [one, one]), `${out}: tensor 'w': appears more than once in the tensors to write`);
    expectError(
      () => writeSafetensors(out, [{ ...one, name: '__metadata__' }]),
      `${out}: '__metadata__' is reserved for metadata and cannot name a tensor`,
    );
    expectError(
      () => writeSafetensors(out, [{ ...one, shape: [-1] }]),
      `${out}: tensor 'w': shape must be an array of non-negative integers, but it is [-1]`,
    );
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});

describe('hostile files', () => {
  it('is shorter than 8 bytes', () => {
    const p = tmpPath();
    fs.writeFileSync(p, new Uint8Array(5));
    expectError(
      () => openSafetensors(p),
      `${p}: file is 5 bytes long, too short for a safetensors file (which starts with an 8-byte header length)`,
    );
  });

  it('claims a header longer than the file', () => {
    const p = rawFile('{}', 8, 1000n);
    expectError(
      () => openSafetensors(p),
      `${p}: header length is 1000 bytes, more than the file holds (the file is 18 bytes); is this really a safetensors file?`,
    );
    const huge = rawFile('{}', 0, 2n ** 64n - 1n);
    expectError(
      () => openSafetensors(huge),
      `${huge}: header length is 18446744073709551615 bytes, more than the file holds (the file is 10 bytes); is this really a safetensors file?`,
    );
  });

  it('claims a header over 100 MB', () => {
    const p = tmpPath();
    fs.writeFileSync(p, u64(150_000_000n));
    fs.truncateSync(p, 200_000_000); // sparse: no disk used
    expectError(() => openSafetensors(p), `${p}: header length is 150000000 bytes, over the limit of 100000000 bytes (100 MB)`);
  });

  it('has a header that is not UTF-8', () => {
    const p = rawFile(new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d, 0x20]));
    expectError(() => openSafetensors(p), `${p}: header is not valid UTF-8 (byte 2 of the header is 0xFF, the first that is not part of a UTF-8 character)`);
  });

  it('has a header that is not JSON', () => {
    const text = '{"w": {"dtype": "F32",';
    let reason = '';
    try {
      JSON.parse(text);
    } catch (error) {
      reason = (error as Error).message;
    }
    const p = rawFile(text);
    expectError(() => openSafetensors(p), `${p}: header is not valid JSON (${reason})`);
  });

  it('has a header that is not an object', () => {
    const array = rawFile('[1, 2]');
    expectError(() => openSafetensors(array), `${array}: header must be a JSON object, but it is an array`);
    const nul = rawFile('null    ');
    expectError(() => openSafetensors(nul), `${nul}: header must be a JSON object, but it is null`);
    const num = rawFile('42');
    expectError(() => openSafetensors(num), `${num}: header must be a JSON object, but it is number 42`);
  });

  it('names an unknown dtype', () => {
    const p = headerFile({ w: entry('Q4_K', [2], [0, 2]) }, 2);
    const error = expectError(
      () => openSafetensors(p),
      `${p}: tensor 'w': unknown dtype 'Q4_K' (supported: BOOL, U8, I8, F8_E4M3, F8_E5M2, I16, U16, F16, BF16, I32, U32, F32, I64, U64, F64)`,
    );
    expect(error.tensor).toBe('w');
    expect(error.file).toBe(p);
    expect(SUPPORTED_DTYPES).toHaveLength(15);
    const numeric = headerFile({ w: entry(7 as unknown as string, [2], [0, 2]) }, 2);
    expect(thrown(() => openSafetensors(numeric)).message).toContain(`tensor 'w': unknown dtype 7 (supported: BOOL,`);
  });

  it('has an entry that is not an object or lacks a field', () => {
    const p = headerFile({ w: [1, 2] }, 0);
    expectError(
      () => openSafetensors(p),
      `${p}: tensor 'w': header entry must be an object with dtype, shape and data_offsets, but it is an array`,
    );
    const noShape = headerFile({ w: { dtype: 'F32', data_offsets: [0, 4] } }, 4);
    expectError(() => openSafetensors(noShape), `${noShape}: tensor 'w': header entry has no 'shape'`);
  });

  it('has a malformed shape', () => {
    for (const [shape, shown] of [
      [[2, -1], '[2,-1]'],
      [[1.5], '[1.5]'],
      ['2x3', '"2x3"'],
      [null, 'null'],
    ] as const) {
      const p = headerFile({ w: entry('F32', shape, [0, 8]) }, 8);
      expectError(() => openSafetensors(p), `${p}: tensor 'w': shape must be an array of non-negative integers, but it is ${shown}`);
    }
  });

  it('has malformed data_offsets', () => {
    for (const [offsets, shown] of [
      [[8, 4], '[8,4]'],
      [[0], '[0]'],
      [[0, 4, 8], '[0,4,8]'],
      [[-4, 0], '[-4,0]'],
      [['0', '4'], '["0","4"]'],
    ] as const) {
      const p = headerFile({ w: entry('F32', [1], offsets) }, 8);
      expectError(
        () => openSafetensors(p),
        `${p}: tensor 'w': data_offsets must be [begin, end] with integers 0 <= begin <= end, but it is ${shown}`,
      );
    }
  });

  it('has a byte length that does not match the shape', () => {
    const p = headerFile({ w: entry('F32', [2, 3], [0, 20]) }, 24);
    expectError(() => openSafetensors(p), `${p}: tensor 'w': dtype F32 and shape [2, 3] need 24 bytes, but data_offsets [0, 20] cover 20 bytes`);
    // A product past 2^53 must not round into a match.
    const overflow = headerFile({ w: entry('U8', [2 ** 27, 2 ** 27 + 1], [0, 0]) }, 0);
    expectError(
      () => openSafetensors(overflow),
      `${overflow}: tensor 'w': dtype U8 and shape [134217728, 134217729] need 18014398643699712 bytes, but data_offsets [0, 0] cover 0 bytes`,
    );
  });

  it('has offsets outside the data region', () => {
    const header = JSON.stringify({ a: entry('F32', [2], [0, 8]), w: entry('F32', [4], [8, 24]) });
    const p = rawFile(header, 16);
    const size = 8 + header.length + 16;
    expectError(
      () => openSafetensors(p),
      `${p}: tensor 'w': data_offsets [8, 24] go past the end of the data region, which is 16 bytes (the file is ${size} bytes, the data starts at byte ${8 + header.length})`,
    );
  });

  it('has overlapping tensors', () => {
    const p = headerFile({ a: entry('F32', [4], [0, 16]), b: entry('F32', [4], [8, 24]) }, 24);
    expectError(() => openSafetensors(p), `${p}: tensor 'b': data_offsets [8, 24] overlap tensor 'a' at [0, 16]`);
    const nested = headerFile({ outer: entry('U8', [16], [0, 16]), inner: entry('U8', [2], [12, 14]) }, 16);
    expectError(() => openSafetensors(nested), `${nested}: tensor 'inner': data_offsets [12, 14] overlap tensor 'outer' at [0, 16]`);
    // Empty tensors hold no bytes, so sharing an offset with another tensor is harmless.
    const empty = headerFile({ a: entry('F32', [4], [0, 16]), e: entry('F32', [0], [8, 8]) }, 16);
    openSafetensors(empty).close();
  });

  it('names a tensor twice, even when JSON escapes hide it', () => {
    const w = '{"dtype":"F32","shape":[1],"data_offsets":[0,4]}';
    const p = rawFile(`{"w":${w},"w":${w}}`, 4);
    expectError(
      () => openSafetensors(p),
      `${p}: tensor 'w' appears more than once in the header (JSON.parse would silently keep only the last one)`,
    );
    const escaped = rawFile(`{"w":${w}, "\\u0077" :${w}}`, 4);
    expectError(
      () => openSafetensors(escaped),
      `${escaped}: tensor 'w' appears more than once in the header (JSON.parse would silently keep only the last one)`,
    );
    const tricky = rawFile(`{"a\\"b":${w},"a\\\\":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, 8);
    const file = openSafetensors(tricky);
    expect([...file.tensors.keys()]).toEqual(['a"b', 'a\\']);
    file.close();
  });

  it('repeats a key inside one entry', () => {
    const p = rawFile('{"w":{"dtype":"F16","dtype":"F32","shape":[1],"data_offsets":[0,4]}}', 4);
    expectError(() => openSafetensors(p), `${p}: header entry 'w' has the key 'dtype' more than once`);
  });

  it('has metadata that is not strings', () => {
    const p = headerFile({ __metadata__: { format: 'pt', total: 5 } }, 0);
    expectError(() => openSafetensors(p), `${p}: __metadata__ must be an object of strings, but 'total' is number 5`);
  });

  it('does not exist or is a directory', () => {
    const missing = path.join(tmp, 'missing.safetensors');
    expectError(() => openSafetensors(missing), `${missing}: cannot open: no such file or directory`);
    expectError(
      () => openSafetensors(tmp),
      `${tmp}: is a directory, not a safetensors file (openCheckpoint accepts checkpoint directories)`,
    );
  });

  it('is truncated after it was opened', () => {
    const p = buildFile([{ name: 'w', dtype: 'F32', shape: [4], bytes: new Uint8Array(16) }]);
    const file = openSafetensors(p);
    fs.truncateSync(p, fs.statSync(p).size - 8);
    expectError(
      () => file.readF32('w'),
      `${p}: unexpected end of file while reading tensor 'w' (was the file truncated after it was opened?)`,
    );
    file.close();
  });
});

describe('checkpoints', () => {
  /** Compares raw bytes, which is exact and much faster than deep-equality on large Float32Arrays. */
  function expectSameTensors(a: TensorSource, b: TensorSource): void {
    expect([...a.tensors.keys()].sort()).toEqual([...b.tensors.keys()].sort());
    for (const name of a.tensors.keys()) {
      expect(a.tensors.get(name)?.shape).toEqual(b.tensors.get(name)?.shape);
      expect(Buffer.compare(a.readRaw(name), b.readRaw(name)), name).toBe(0);
    }
  }

  /** Splits the mixtral fixture into two shards the way Hugging Face does. */
  function buildSharded(): { dir: string; index: Record<string, unknown> } {
    const dir = path.dirname(tmpPath());
    const source = openSafetensors(fixture('mixtral', 'model.safetensors'));
    const names = [...source.tensors.keys()];
    const shardNames = ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'];
    const weightMap: Record<string, string> = {};
    const halves = [names.slice(0, 20), names.slice(20)];
    halves.forEach((half, i) => {
      writeSafetensors(
        path.join(dir, shardNames[i]),
        half.map((name) => ({ name, dtype: 'F32' as const, shape: source.tensors.get(name)?.shape ?? [], data: source.readF32(name) })),
        { format: 'pt' },
      );
      for (const name of half) weightMap[name] = shardNames[i];
    });
    source.close();
    const index = { metadata: { total_size: 1146216 }, weight_map: weightMap };
    fs.writeFileSync(path.join(dir, 'model.safetensors.index.json'), JSON.stringify(index, null, 2));
    return { dir, index };
  }

  it('opens a single file, or a directory holding model.safetensors', () => {
    const file = fixture('olmoe', 'model.safetensors');
    const direct = openCheckpoint(file);
    expect(direct.files).toEqual([file]);
    expect(direct.indexPath).toBeUndefined();
    expect(direct.tensors.size).toBe(117);
    expect(direct.metadata).toEqual({ format: 'pt' });
    const viaDir = openCheckpoint(path.join(FIXTURES, 'olmoe'));
    expect(viaDir.files).toEqual([path.join(FIXTURES, 'olmoe', 'model.safetensors')]);
    expect([...viaDir.readF32('model.norm.weight')]).toEqual([...direct.readF32('model.norm.weight')]);
    direct.close();
    viaDir.close();
  });

  it('opens a sharded checkpoint through its index', () => {
    const { dir } = buildSharded();
    const checkpoint = openCheckpoint(dir);
    const original = openSafetensors(fixture('mixtral', 'model.safetensors'));
    expect(checkpoint.files).toEqual([
      path.join(dir, 'model-00001-of-00002.safetensors'),
      path.join(dir, 'model-00002-of-00002.safetensors'),
    ]);
    expect(checkpoint.indexPath).toBe(path.join(dir, 'model.safetensors.index.json'));
    expect(checkpoint.indexMetadata).toEqual({ total_size: 1146216 });
    expect(checkpoint.metadata).toEqual({ format: 'pt' });
    expect(checkpoint.tensors.size).toBe(41);
    expect(checkpoint.tensors.get('model.norm.weight')?.file).toBe(path.join(dir, 'model-00002-of-00002.safetensors'));
    expect(checkpoint.tensors.get('lm_head.weight')?.file).toBe(path.join(dir, 'model-00001-of-00002.safetensors'));
    expectSameTensors(checkpoint, original);
    expect([...checkpoint.readF32('model.norm.weight')]).toEqual([...original.readF32('model.norm.weight')]);
    expectError(
      () => checkpoint.readF32('nope'),
      `${path.join(dir, 'model.safetensors.index.json')}: there is no tensor named 'nope'`,
    );
    const viaIndex = openCheckpoint(path.join(dir, 'model.safetensors.index.json'));
    expect(viaIndex.tensors.size).toBe(41);
    viaIndex.close();
    checkpoint.close();
    original.close();
    expect(() => checkpoint.readF32('lm_head.weight')).toThrow(WeightsError);
  });

  it('names an index entry whose shard does not exist', () => {
    const { dir, index } = buildSharded();
    fs.rmSync(path.join(dir, 'model-00002-of-00002.safetensors'));
    const indexPath = path.join(dir, 'model.safetensors.index.json');
    const first = Object.entries(index.weight_map as Record<string, string>).find(([, shard]) => shard.startsWith('model-00002'));
    expectError(
      () => openCheckpoint(dir),
      `${indexPath}: tensor '${first?.[0]}' is mapped to shard 'model-00002-of-00002.safetensors', which does not exist in ${dir}`,
    );
  });

  it('names an index entry that its shard lacks', () => {
    const { dir, index } = buildSharded();
    const weightMap = index.weight_map as Record<string, string>;
    weightMap['model.layers.9.extra.weight'] = 'model-00001-of-00002.safetensors';
    const indexPath = path.join(dir, 'model.safetensors.index.json');
    fs.writeFileSync(indexPath, JSON.stringify(index));
    expectError(
      () => openCheckpoint(dir),
      `${indexPath}: tensor 'model.layers.9.extra.weight' is mapped to shard 'model-00001-of-00002.safetensors', but that shard has no such tensor`,
    );
  });

  it('refuses shards outside the checkpoint directory and malformed indexes', () => {
    const dir = path.dirname(tmpPath());
    const indexPath = path.join(dir, 'model.safetensors.index.json');
    fs.writeFileSync(indexPath, JSON.stringify({ weight_map: { w: '../model.safetensors' } }));
    expectError(
      () => openCheckpoint(dir),
      `${indexPath}: tensor 'w' is mapped to shard '../model.safetensors', which is outside the checkpoint directory ${dir}`,
    );
    fs.writeFileSync(indexPath, JSON.stringify({ metadata: {} }));
    expectError(() => openCheckpoint(dir), `${indexPath}: weight_map must be an object mapping tensor names to shard files, but it is missing`);
    fs.writeFileSync(indexPath, JSON.stringify({ weight_map: { w: 3 } }));
    expectError(() => openCheckpoint(dir), `${indexPath}: weight_map entry for tensor 'w' must be a shard file name, but it is number 3`);
    fs.writeFileSync(indexPath, '{"weight_map": {"w": "a.safetensors", "w": "b.safetensors"}}');
    expectError(() => openCheckpoint(dir), `${indexPath}: key 'w' appears more than once in 'weight_map'`);
    fs.writeFileSync(indexPath, '[]');
    expectError(() => openCheckpoint(dir), `${indexPath}: index must be a JSON object, but it is an array`);
  });

  it('reports a path that is not a checkpoint', () => {
    const empty = path.dirname(tmpPath());
    expectError(() => openCheckpoint(empty), `${empty}: directory has neither model.safetensors nor model.safetensors.index.json`);
    const missing = path.join(tmp, 'nowhere');
    expectError(() => openCheckpoint(missing), `${missing}: cannot open checkpoint: no such file or directory`);
  });
});

describe('checkTensors', () => {
  it('accepts a checkpoint that matches', () => {
    const file = openSafetensors(fixture('mixtral', 'model.safetensors'));
    const expected = [...file.tensors.values()].map(({ name, shape }) => ({ name, shape }));
    expect(checkTensors(file, expected)).toEqual([]);
    file.close();
  });

  it('lists missing, wrong-shape and unexpected tensors', () => {
    const file = openSafetensors(fixture('mixtral', 'reference.safetensors'));
    const expected = [
      { name: 'aux_loss', shape: [] },
      { name: 'logits', shape: [2, 16, 64] },
      { name: 'hidden_states.0', shape: [2, 16, 64] },
      { name: 'hidden_states.1', shape: [2, 16, 64] },
      { name: 'hidden_states.2', shape: [2, 16, 64] },
      { name: 'input.input_ids', shape: [2, 16] },
      { name: 'router_logits.0', shape: [32, 4] },
      { name: 'router_logits.1', shape: [32, 4] },
      { name: 'router_logits.2', shape: [32, 4] },
    ];
    const problems = checkTensors(file, expected);
    expect(problems).toEqual([
      "tensor 'logits': expected shape [2, 16, 64] but the checkpoint has [2, 16, 512]",
      "tensor 'router_logits.2': expected shape [32, 4] but the checkpoint does not have it",
      "tensor 'hook.model.layers.0.mlp.gate.0': not expected, but the checkpoint has it with shape [32, 4]",
      "tensor 'hook.model.layers.0.mlp.gate.1': not expected, but the checkpoint has it with shape [32, 2]",
      "tensor 'hook.model.layers.0.mlp.gate.2': not expected, but the checkpoint has it with shape [32, 2]",
      "tensor 'hook.model.layers.1.mlp.gate.0': not expected, but the checkpoint has it with shape [32, 4]",
      "tensor 'hook.model.layers.1.mlp.gate.1': not expected, but the checkpoint has it with shape [32, 2]",
      "tensor 'hook.model.layers.1.mlp.gate.2': not expected, but the checkpoint has it with shape [32, 2]",
    ]);
    expect(checkTensors(file, expected, { allowUnexpected: true })).toHaveLength(2);
    file.close();
  });

  it('uses the message format of the spec', () => {
    const tensors = new Map([['model.norm.weight', { shape: [32] }]]);
    expect(checkTensors({ tensors }, [{ name: 'model.norm.weight', shape: [64] }])).toEqual([
      "tensor 'model.norm.weight': expected shape [64] but the checkpoint has [32]",
    ]);
    expect(checkTensors({ tensors }, [{ name: 'model.norm.weight', shape: [32, 1] }])).toEqual([
      "tensor 'model.norm.weight': expected shape [32, 1] but the checkpoint has [32]",
    ]);
  });
});
