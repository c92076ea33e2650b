// Hostile weights: every malformed file of tests/helpers/hostile-weights.ts is refused by the library with one
// message naming the file and the field or tensor, and by `moec run` with exactly that message as one `error:` line,
// exit status 1 and no output file. Most cases run the command in-process (main(), as bin/moec.js calls it); two
// spawn the real command to check the process's exit status and stderr.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lower } from '../../compiler/api.ts';
import { main } from '../../bin/main.ts';
import { openCheckpoint, WeightsError } from '../../runtime/safetensors/index.ts';
import { bindWeights } from '../../runtime/weights/bind.ts';
import { firstNonFinite } from '../../runtime/weights/finite.ts';
import * as H from '../helpers/hostile-weights.ts';

const dir = mkdtempSync(join(tmpdir(), 'moec-hostile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const spec = join(dir, 'tiny.moe');
writeFileSync(spec, `rmsnorm norm { eps: 1e-5 }
model tiny {
  vocab: 16
  d_model: 8
  decoder: stack { layers: 1, block: block { norm: norm, ffn: ffn { hidden: 8, act: gelu } }, final_norm: norm }
}
`);
const input = join(dir, 'inputs.json');
writeFileSync(input, JSON.stringify({ input_ids: [[1, 2, 3]] }));
const graph = lower(spec);
const params = graph.params.map((p) => ({ name: p.name, shape: p.type.shape as number[] }));

function write(name: string, bytes: Uint8Array): string {
  const f = join(dir, `${name}.safetensors`);
  writeFileSync(f, bytes);
  return f;
}

/** What the library says: open the file and bind the spec's parameters, as `moec run` does. */
function libraryError(file: string): string {
  let c;
  try {
    c = openCheckpoint(file);
    bindWeights(graph.params, [], c, file);
  } catch (e) {
    expect(e).toBeInstanceOf(WeightsError);
    return (e as Error).message;
  } finally {
    c?.close();
  }
  throw new Error(`${file} was accepted`);
}

/** `moec run` in this process: exit status and stderr, and the output folder's listing after. */
async function runInProcess(weights: string): Promise<{ status: number; stderr: string; out: string; listing: string[] }> {
  const outDir = join(dir, `out-${Math.random().toString(36).slice(2)}`);
  mkdirSync(outDir);
  const out = join(outDir, 'out.safetensors');
  const writes: string[] = [];
  const original = process.stderr.write.bind(process.stderr);
  const listeners = process.stdout.listeners('error');
  process.stderr.write = ((chunk: string | Uint8Array) => (writes.push(String(chunk)), true)) as typeof process.stderr.write;
  let status: number;
  try {
    status = await main(['run', spec, '--weights', weights, '--input', input, '--out', out]);
  } finally {
    process.stderr.write = original;
    for (const l of process.stdout.listeners('error')) if (!listeners.includes(l)) process.stdout.off('error', l as () => void);
  }
  return { status, stderr: writes.join(''), out, listing: readdirSync(outDir) };
}

const m = (f: string, rest: string) => `${f}: ${rest}`;
const poison = 'a NaN or infinite weight poisons every output it reaches, so the checkpoint is refused';

/** Case name, its bytes, and the one message both the library and `moec run` must give. */
const cases: [string, () => Uint8Array, (f: string) => string][] = [
  ['truncated data', () => H.truncatedData(params), (f) => m(f, "tensor 'head.weight': data_offsets [1088, 1600] go past the end of the data region, which is 1500 bytes (the file is 1972 bytes, the data starts at byte 472)")],
  ['header length past the file', () => H.headerLengthPastFile(params), (f) => m(f, 'header length is 2072 bytes, more than the file holds (the file is 2072 bytes); is this really a safetensors file?')],
  ['header length 2^40', () => H.headerLength2e40(params), (f) => m(f, 'header length is 1099511627776 bytes, more than the file holds (the file is 2072 bytes); is this really a safetensors file?')],
  ['header length 300 MB in a small file', () => H.headerLength300MB(params), (f) => m(f, 'header length is 300000000 bytes, more than the file holds (the file is 2072 bytes); is this really a safetensors file?')],
  ['overlapping data_offsets', () => H.overlappingOffsets(params), (f) => m(f, "tensor 'decoder.0.ffn_norm.weight': data_offsets [4, 36] overlap tensor 'embed' at [0, 512]")],
  ['data_offsets out of range', () => H.offsetsOutOfRange(params), (f) => m(f, "tensor 'head.weight': data_offsets [1152, 1664] go past the end of the data region, which is 1600 bytes (the file is 2072 bytes, the data starts at byte 472)")],
  ['a gap between tensors', () => H.offsetsWithGap(params), (f) => m(f, "tensor 'decoder.0.ffn_norm.weight': data_offsets [528, 560] leave bytes [512, 528] of the data region unused (the tensors must cover it exactly, one after another)")],
  ['bytes after the last tensor', () => H.trailingBytes(params), (f) => m(f, 'the tensors cover 1600 bytes of the 1616-byte data region: bytes [1600, 1616] belong to no tensor (was something appended to the file?)')],
  ['unknown dtype', () => H.unknownDtype(params), (f) => m(f, "tensor 'embed': unknown dtype 'Q4_K' (supported: BOOL, U8, I8, F8_E4M3, F8_E5M2, I16, U16, F16, BF16, I32, U32, F32, I64, U64, F64)")],
  ['shape and bytes disagree', () => H.shapeBytesMismatch(params), (f) => m(f, "tensor 'embed': dtype F32 and shape [17, 8] need 544 bytes, but data_offsets [0, 512] cover 512 bytes")],
  ['NaN in a weight', () => H.poisonedValue(params, 'decoder.0.ffn.up.weight', 13, NaN), (f) => m(f, `tensor 'decoder.0.ffn.up.weight': element 13 (at [1, 5] of [8, 8]) is NaN; ${poison}`)],
  ['+Inf in a weight', () => H.poisonedValue(params, 'head.weight', 0, Infinity), (f) => m(f, `tensor 'head.weight': element 0 (at [0, 0] of [16, 8]) is Infinity; ${poison}`)],
  ['-Inf in a weight', () => H.poisonedValue(params, 'decoder.final_norm.weight', 7, -Infinity), (f) => m(f, `tensor 'decoder.final_norm.weight': element 7 (at [7] of [8]) is -Infinity; ${poison}`)],
  ['a duplicated tensor name', () => H.duplicateName(params), (f) => m(f, "tensor 'embed' appears more than once in the header (JSON.parse would silently keep only the last one)")],
  ['a name that is not UTF-8', () => H.nonUtf8Name(params), (f) => m(f, 'header is not valid UTF-8 (byte 2 of the header is 0xFF, the first that is not part of a UTF-8 character)')],
  ['a header that is not JSON', () => H.headerNotJson(params), (f) => m(f, 'header is not valid JSON (Expected double-quoted property name in JSON at position 26)')],
  ['a header that is not an object', () => H.headerNotObject(params), (f) => m(f, 'header must be a JSON object, but it is an array')],
  ['a negative shape entry', () => H.negativeShape(params), (f) => m(f, "tensor 'embed': shape must be an array of non-negative integers, but it is [-16,8]")],
  ['a non-integer shape entry', () => H.nonIntegerShape(params), (f) => m(f, "tensor 'embed': shape must be an array of non-negative integers, but it is [16.5,8]")],
  ['a tensor the spec needs is missing', () => H.missingTensor(params, 'decoder.final_norm.weight'), (f) => m(f, "tensor 'decoder.final_norm.weight' (for @decoder.final_norm.weight): expected shape [8] but the checkpoint does not have it")],
  ['a tensor of the wrong shape for the spec', () => H.transposedTensor(params, 'embed'), (f) => m(f, "tensor 'embed' (for @embed): expected shape [16, 8] but the checkpoint has [8, 16]")],
];

describe('hostile weights', () => {
  it('the valid file the cases start from runs', async () => {
    const r = await runInProcess(write('valid', H.validWeights(params)));
    expect([r.status, r.stderr, r.listing]).toEqual([0, `wrote ${r.out}\n`, ['out.safetensors']]);
  });

  for (const [name, bytes, message] of cases) {
    it(name, async () => {
      const f = write(name.replace(/\W+/g, '-'), bytes());
      expect(libraryError(f)).toBe(message(f));
      const r = await runInProcess(f);
      expect(r.status).toBe(1);
      expect(r.stderr).toBe(`error: ${message(f)}\n`);
      expect(r.listing).toEqual([]);
    });
  }

  it('a header over the 100 MB limit in a file large enough to hold it (sparse: no disk used)', async () => {
    const f = write('header-over-limit', H.frame(new Uint8Array(0), new Uint8Array(0), 150_000_000n));
    truncateSync(f, 300_000_000);
    const message = m(f, 'header length is 150000000 bytes, over the limit of 100000000 bytes (100 MB)');
    expect(libraryError(f)).toBe(message);
    const r = await runInProcess(f);
    expect([r.status, r.stderr, r.listing]).toEqual([1, `error: ${message}\n`, []]);
  });

  it('the real command: exit status 1, one line, no stack, no output (2^40 header length, NaN)', () => {
    const bin = new URL('../../bin/moec.js', import.meta.url).pathname;
    for (const [name, bytes, message] of [cases[2]!, cases[10]!]) {
      const f = write(`spawned-${name.replace(/\W+/g, '-')}`, bytes());
      const out = join(dir, `spawned-${name.replace(/\W+/g, '-')}.out.safetensors`);
      const r = spawnSync(process.execPath, [bin, 'run', spec, '--weights', f, '--input', input, '--out', out], { encoding: 'utf8' });
      expect(r.status).toBe(1);
      expect(r.stderr).toBe(`error: ${message(f)}\n`);
      expect(existsSync(out)).toBe(false);
    }
    expect(readdirSync(dir).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });

  it('finds the first non-finite value in one pass, and is quick on 64M floats', () => {
    expect(firstNonFinite(new Float32Array([0, -0, 3.4e38, -3.4e38, 1e-45]))).toBe(-1);
    expect(firstNonFinite(new Float32Array([1, NaN, Infinity]))).toBe(1);
    expect(firstNonFinite(new Float32Array([1, 2, -Infinity]))).toBe(2);
    const big = new Float32Array(64 * 2 ** 20).fill(0.5);
    const t0 = performance.now();
    expect(firstNonFinite(big)).toBe(-1);
    const ms = performance.now() - t0;
    // 256 MB of weights: well under a second even on a busy 2-core machine (typically ~60 ms).
    expect(ms).toBeLessThan(2000);
  });
});
