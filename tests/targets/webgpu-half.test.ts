// Matrix weights stored as f16 on WebGPU (routers in f32): the fixtures run with their weights rounded to f16 must
// give what the reference executor gives on the same rounded weights — the storage changes, the arithmetic (f32)
// does not — both as `array<f16>` (shader-f16, which lavapipe offers) and as packed u32 pairs (every adapter).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lowerModel } from '../../compiler/lower/model.ts';
import { runPipeline } from '../../compiler/passes/pipeline.ts';
import { planMemory } from '../../compiler/kernel/memory-plan.ts';
import { scheduleGraph } from '../../compiler/kernel/schedule.ts';
import { halfWeightBuffers } from '../../codegen/half-weights.ts';
import { renderProgram } from '../../targets/wgsl/render.ts';
import { openDevice, type GpuDevice } from '../../runtime/webgpu/device.ts';
import { halfBits, halfValue } from '../../runtime/half.ts';
import { WebGpuProgram } from '../../runtime/webgpu/run.ts';
import { namedOutputs, referenceExecutor } from '../../runtime/run-model.ts';
import { openSafetensors } from '../../runtime/safetensors/index.ts';
import { relativeL2 } from '../helpers/compare.ts';
import { fixtureDirs, fixtureRun, importedSpec } from '../helpers/fixtures.ts';
import { scratch } from '../helpers/spec.ts';

let gpu: GpuDevice;
beforeAll(async () => {
  gpu = await openDevice();
});
afterAll(() => gpu?.device.destroy());

const dirs = fixtureDirs().filter((d) => /mixtral|qwen2_moe/.test(d));

describe.each(dirs)('%s with f16 weights', (dir) => {
  const spec = importedSpec(dir);
  const graph = runPipeline(lowerModel(spec));
  const program = scheduleGraph(graph);
  const { weights, ids, sizes } = fixtureRun(dir, spec, graph);
  const half = halfWeightBuffers(program);
  const sources = new Set(program.buffers.filter((b) => half.has(b.name)).map((b) => b.source));
  const rounded = new Map([...weights].map(([name, w]) => [name, sources.has(name) ? { ...w, data: w.data.map((x) => halfValue(halfBits(x))) } : w]));
  const want = new Map(namedOutputs(graph, referenceExecutor(graph)(rounded, ids, sizes), sizes).map((o) => [o.name, o]));

  it('stores the experts\' and projections\' weights as f16, not the router\'s', () => {
    expect([...sources].some((s) => s.includes('experts'))).toBe(true);
    expect([...sources].some((s) => s.includes('router'))).toBe(false);
  });

  it.each([['array<f16>', true], ['packed u32 pairs', false]])('as %s: the reference executor\'s outputs on the rounded weights', async (_, native) => {
    if (native) expect(gpu.features).toContain('shader-f16');
    const wgsl = renderProgram(program, { halfWeights: true, features: native ? ['shader-f16'] : [] });
    expect(wgsl.kernels.some((k) => k.code.includes(native ? 'enable f16;' : 'unpack2x16float'))).toBe(true);
    const p = await WebGpuProgram.create(gpu, program, planMemory(program), wgsl);
    const out = await p.run({ params: (n) => weights.get(n)!.data, inputs: ids, sizes });
    p.destroy();
    expect(relativeL2(out.logits!, want.get('logits')!.data)).toBeLessThan(1e-5);
    for (const [name, o] of want) if (name.startsWith('expert_indices.')) expect(Array.from(out[name]!), name).toEqual(Array.from(o.data));
  });
});

describe('moec run --weight-dtype', () => {
  const bin = new URL('../../bin/moec.js', import.meta.url).pathname;
  const fixture = dirs.find((d) => d.includes('mixtral'))!;
  const moec = (...a: string[]) => spawnSync(process.execPath, [bin, ...a], { encoding: 'utf8' });
  const spec = join(scratch, 'mixtral-half.moe');
  beforeAll(() => {
    expect(moec('import', 'hf', fixture, '-o', spec).status).toBe(0);
  });

  it('f16 on webgpu: logits within f16 rounding of transformers, written', () => {
    const out = join(scratch, 'mixtral-half.safetensors');
    const r = moec('run', spec, '--weights', fixture, '--input', join(fixture, 'inputs.json'), '--out', out, '--target', 'webgpu', '--weight-dtype', 'f16');
    expect(r.stderr).not.toContain('error');
    expect(r.status).toBe(0);
    const got = openSafetensors(out).readF32('logits');
    const want = openSafetensors(join(fixture, 'reference.safetensors')).readF32('logits');
    expect(relativeL2(got, want)).toBeLessThan(1e-2);
    expect(relativeL2(got, want)).toBeGreaterThan(1e-6);
  });

  it.each([
    [['--target', 'webgpu', '--weight-dtype', 'f8'], "error: --weight-dtype must be f32 or f16, got 'f8'"],
    [['--target', 'wasm', '--weight-dtype', 'f16'], 'error: --weight-dtype f16 stores the weights as f16 on WebGPU: use it with --target webgpu'],
  ])('%j is refused in one line', (args, message) => {
    const out = join(scratch, 'refused.safetensors');
    const r = moec('run', spec, '--weights', fixture, '--input', join(fixture, 'inputs.json'), '--out', out, ...args);
    expect(r.status).not.toBe(0);
    expect(r.stderr.trim()).toBe(message);
    expect(existsSync(out)).toBe(false);
  });
});
