// moec run on bad input: one clear message, a non-zero exit, no stack trace, and nothing written to --out.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scratch } from '../helpers/spec.ts';

const bin = new URL('../../bin/moec.js', import.meta.url).pathname;
const fixture = new URL('../../../shared/fixtures/hf/mixtral/', import.meta.url).pathname;
const dir = join(scratch, 'bad-run');
mkdirSync(dir, { recursive: true });
const spec = join(dir, 'mixtral.moe');
const moec = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
expect(moec('import', 'hf', fixture, '-o', spec).status).toBe(0);

function runWith(weights: string, input = join(fixture, 'inputs.json')) {
  const out = join(dir, `out-${Math.random().toString(36).slice(2)}.safetensors`);
  const r = moec('run', spec, '--weights', weights, '--input', input, '--out', out);
  expect(r.status).toBe(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stderr.trim().split('\n')[0]).toMatch(/^error: /);
  expect(existsSync(out)).toBe(false);
  return r.stderr;
}

/** A copy of the fixture's weights with its header rewritten by `edit`. */
function withHeader(name: string, edit: (h: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>) => void): string {
  const bytes = readFileSync(join(fixture, 'model.safetensors'));
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
  edit(header);
  const text = Buffer.from(JSON.stringify(header).padEnd(n, ' '));
  if (text.length !== n) throw new Error('edited header must not grow');
  const path = join(dir, name);
  writeFileSync(path, Buffer.concat([bytes.subarray(0, 8), text, bytes.subarray(8 + n)]));
  return path;
}

describe('moec run refuses bad input', () => {
  it('a good run first (the test inputs are otherwise right)', () => {
    const out = join(dir, 'good.safetensors');
    const r = moec('run', spec, '--weights', fixture, '--input', join(fixture, 'inputs.json'), '--out', out);
    expect(r.stderr).toBe(`wrote ${out}\n`);
    expect(existsSync(out)).toBe(true);
  });

  it('a truncated weights file', () => {
    const bytes = readFileSync(join(fixture, 'model.safetensors'));
    const path = join(dir, 'truncated.safetensors');
    writeFileSync(path, bytes.subarray(0, bytes.length - 1000));
    expect(runWith(path)).toMatch(/truncated\.safetensors: .*(outside|beyond|past|end)/);
  });

  it('a header that lies about offsets', () => {
    const path = withHeader('lying.safetensors', (h) => {
      h['model.norm.weight']!.data_offsets = [0, 256];
    });
    expect(runWith(path)).toContain('lying.safetensors: ');
  });

  it('a tensor with the wrong shape names the tensor and both shapes', () => {
    const path = withHeader('shape.safetensors', (h) => {
      h['model.norm.weight']!.shape = [8, 8];
    });
    expect(runWith(path)).toBe(`error: ${path}: tensor 'model.norm.weight' (for @decoder.final_norm.weight): expected shape [64] but the checkpoint has [8, 8]\n`);
  });

  it('a wrong dtype', () => {
    const path = withHeader('dtype.safetensors', (h) => {
      const t = h['model.norm.weight']!;
      t.dtype = 'I32';
    });
    expect(runWith(path)).toBe(`error: ${path}: tensor 'model.norm.weight': dtype I32 where a floating-point weight is expected (F32, F16, BF16, F64, F8_E4M3, F8_E5M2)\n`);
  });

  it('a missing tensor', () => {
    const path = withHeader('missing.safetensors', (h) => {
      h['model.norm.weightX'] = h['model.norm.weight']!;
      delete h['model.norm.weight'];
    });
    const err = runWith(path);
    expect(err).toContain("tensor 'model.norm.weight' (for @decoder.final_norm.weight): expected shape [64] but the checkpoint does not have it");
    expect(err).toContain("'model.norm.weightX' [64]");
  });

  it('token ids out of range', () => {
    const input = join(dir, 'oob.json');
    writeFileSync(input, JSON.stringify({ input_ids: [[1, 2, 600]] }));
    expect(runWith(fixture, input)).toBe(`error: ${input}: input_ids[0][2] = 600 is out of range for a vocabulary of 512 (0 … 511)\n`);
  });

  it('a missing input key', () => {
    const input = join(dir, 'nokey.json');
    writeFileSync(input, JSON.stringify({ ids: [[1]] }));
    expect(runWith(fixture, input)).toBe(`error: ${input}: missing 'input_ids' (this model reads input_ids)\n`);
  });

  it('a weights path that does not exist', () => {
    expect(runWith(join(dir, 'nothing-here'))).toMatch(/^error: .*nothing-here/);
  });

  it('an --out folder that does not exist', () => {
    const r = moec('run', spec, '--weights', fixture, '--input', join(fixture, 'inputs.json'), '--out', join(dir, 'no', 'x.safetensors'));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^error: --out .*: the folder .* does not exist\n$/);
  });

  it('copies of the fixture still work (the checks are not over-eager)', () => {
    const copy = join(dir, 'copy');
    mkdirSync(copy, { recursive: true });
    for (const f of ['config.json', 'model.safetensors']) copyFileSync(join(fixture, f), join(copy, f));
    const out = join(dir, 'copy.safetensors');
    expect(moec('run', spec, '--weights', copy, '--input', join(fixture, 'inputs.json'), '--out', out).status).toBe(0);
  });
});
