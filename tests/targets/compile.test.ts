// moec compile --target wasm writes model.wasm, manifest.json and model.ts; the generated module runs the model
// through the runtime alone and reproduces the fixture.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { openSafetensors } from '../../runtime/safetensors/index.ts';
import { relativeL2 } from '../helpers/compare.ts';
import { scratch } from '../helpers/spec.ts';

const bin = new URL('../../bin/moec.js', import.meta.url).pathname;
const fixture = new URL('../../../shared/fixtures/hf/olmoe/', import.meta.url).pathname;
// Inside the package, so the generated module's `moec/…` import resolves to this checkout.
const outRoot = new URL('../.out/', import.meta.url).pathname;

it('compiles a fixture and runs it from the generated TypeScript module', async () => {
  mkdirSync(outRoot, { recursive: true });
  const spec = join(scratch, 'olmoe-compile.moe');
  const moec = (...a: string[]) => spawnSync(process.execPath, [bin, ...a], { encoding: 'utf8' });
  expect(moec('import', 'hf', fixture, '-o', spec).status).toBe(0);
  const out = join(outRoot, `olmoe-${process.pid}`);
  const r = moec('compile', spec, '--target', 'wasm', '-o', out, '--report', '--seq', '16');
  expect(r.stderr).toMatch(/^wrote .*model\.wasm \(\d+ bytes\), model-relaxed\.wasm \(FMA\), manifest\.json, model\.ts\n$/);
  expect(r.stdout).toMatch(/^kernels\s+\d+\ntemporaries\s+\d+ in \d+ planned buffers\nactivations \(batch 1, seq 16\)\s+[\d.]+ MiB peak planned/);
  for (const f of ['model.wasm', 'manifest.json', 'model.ts']) expect(existsSync(join(out, f))).toBe(true);
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { format: string; program: { kernels: unknown[] } };
  expect(manifest.format).toBe('moec-compiled/1');

  const mod = (await import(join(out, 'model.ts'))) as { load(weights: string): { run(inputs: string): Record<string, Float32Array> } };
  const outputs = mod.load(fixture).run(join(fixture, 'inputs.json'));
  const ref = openSafetensors(join(fixture, 'reference.safetensors'));
  expect(relativeL2(outputs.logits!, ref.readF32('logits'))).toBeLessThan(1e-4);
});

it('compiles a fixture to WGSL and runs it on WebGPU from the generated TypeScript module', async () => {
  mkdirSync(outRoot, { recursive: true });
  const spec = join(scratch, 'olmoe-wgsl.moe');
  const moec = (...a: string[]) => spawnSync(process.execPath, [bin, ...a], { encoding: 'utf8' });
  expect(moec('import', 'hf', fixture, '-o', spec).status).toBe(0);
  const out = join(outRoot, `olmoe-wgsl-${process.pid}`);
  const r = moec('compile', spec, '--target', 'wgsl', '-o', out);
  expect(r.stderr).toMatch(/^wrote \d+ shaders in .*wgsl, manifest\.json, model\.ts\n$/);
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { target: string; shaders: { file: string }[] };
  expect(manifest.target).toBe('wgsl');
  for (const s of manifest.shaders) expect(readFileSync(join(out, s.file), 'utf8')).toMatch(/@compute @workgroup_size\((64|16, 16)\)/);
  const mod = (await import(join(out, 'model.ts'))) as { load(weights: string): Promise<{ run(inputs: string): Promise<Record<string, Float32Array>>; close(): void }> };
  const m = await mod.load(fixture);
  try {
    const outputs = await m.run(join(fixture, 'inputs.json'));
    const ref = openSafetensors(join(fixture, 'reference.safetensors'));
    expect(relativeL2(outputs.logits!, ref.readF32('logits'))).toBeLessThan(1e-4);
  } finally {
    m.close();
  }
});

it('an unknown target is refused with the list of targets', () => {
  const r = spawnSync(process.execPath, [bin, 'compile', 'examples/olmoe-1b-7b.moe', '--target', 'metal', '-o', join(scratch, 'x')], { encoding: 'utf8' });
  expect(r.status).toBe(1);
  expect(r.stderr).toContain("error: option '--target <target>' argument 'metal' is invalid. Allowed choices are wasm, wgsl, cuda, gpujs.");
});

it('moec run --target wasm --profile prints the time of each kind of kernel', () => {
  const spec = join(scratch, 'olmoe-profile.moe');
  const moec = (...a: string[]) => spawnSync(process.execPath, [bin, ...a], { encoding: 'utf8' });
  expect(moec('import', 'hf', fixture, '-o', spec).status).toBe(0);
  const r = moec('run', spec, '--weights', fixture, '--input', join(fixture, 'inputs.json'), '--out', join(scratch, 'profiled.safetensors'), '--target', 'wasm', '--profile');
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/^kernel\s+calls\s+ms\s+%\n/);
  expect(r.stdout).toMatch(/\ngated_grouped_linear\s+2\s+[\d.]+\s+[\d.]+\n/);
  expect(r.stdout).toMatch(/\ntotal\s+[\d.]+\n$/);
});

it('moec run --target webgpu with an adapter that is not there: one error line naming the adapters found', () => {
  const spec = join(scratch, 'olmoe-adapter.moe');
  const moec = (...a: string[]) => spawnSync(process.execPath, [bin, ...a], { encoding: 'utf8' });
  expect(moec('import', 'hf', fixture, '-o', spec).status).toBe(0);
  const out = join(scratch, 'no-adapter.safetensors');
  const r = moec('run', spec, '--weights', fixture, '--input', join(fixture, 'inputs.json'), '--out', out, '--target', 'webgpu', '--adapter', 'no-such-gpu');
  expect(r.status).toBe(1);
  const errors = r.stderr.split('\n').filter((l) => l.startsWith('error:'));
  expect(errors).toHaveLength(1);
  expect(errors[0]).toMatch(/^error: no WebGPU adapter matches 'no-such-gpu'; found: .+/);
  expect(r.stderr).not.toContain('    at ');
  expect(existsSync(out)).toBe(false);
});
