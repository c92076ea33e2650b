// The WGSL target on a WebGPU adapter (lavapipe in CI): every HF fixture reproduces transformers' logits and makes
// the same expert choices as the reference executor, with the shaders for a plain adapter and with those using the
// optional features this one offers (subgroups); every emitted shader compiles in Dawn.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lowerModel } from '../../compiler/lower/model.ts';
import { runPipeline } from '../../compiler/passes/pipeline.ts';
import { planMemory } from '../../compiler/kernel/memory-plan.ts';
import { scheduleGraph } from '../../compiler/kernel/schedule.ts';
import { renderProgram } from '../../targets/wgsl/render.ts';
import { openDevice, type GpuDevice } from '../../runtime/webgpu/device.ts';
import { WebGpuProgram } from '../../runtime/webgpu/run.ts';
import { relativeL2 } from '../helpers/compare.ts';
import { fixtureDirs, fixtureReference, fixtureRun, importedSpec } from '../helpers/fixtures.ts';

function prepare(dir: string) {
  const spec = importedSpec(dir);
  const graph = runPipeline(lowerModel(spec));
  const program = scheduleGraph(graph);
  const run = fixtureRun(dir, spec, graph);
  return { program, plan: planMemory(program), ...run, ...fixtureReference(dir, graph, run) };
}

const dirs = fixtureDirs();
const prepared = new Map(dirs.map((d) => [d, prepare(d)]));
let gpu: GpuDevice;
const errors: string[] = [];
beforeAll(async () => {
  gpu = await openDevice();
  gpu.device.onuncapturederror = (e) => errors.push(e.error.message);
});
afterAll(() => gpu?.device.destroy());

describe.each(dirs)('%s on webgpu', (dir) => {
  it.each([['no optional features', false], ["the adapter's optional features", true]])('logits within 1e-4 of transformers, the same experts as the reference executor, with %s', async (_, optional) => {
    const f = prepared.get(dir)!;
    if (optional) expect(gpu.shaderFeatures).toContain('subgroups');
    const p = await WebGpuProgram.create(gpu, f.program, f.plan, renderProgram(f.program, { features: optional ? gpu.shaderFeatures : [] }));
    const out = await p.run({ params: (n) => f.weights.get(n)!.data, inputs: f.ids, sizes: f.sizes });
    p.destroy();
    expect(errors).toEqual([]);
    expect(relativeL2(out.logits!, f.want)).toBeLessThan(1e-4);
    const choices = [...f.ref.keys()].filter((n) => n.startsWith('expert_indices.'));
    expect(choices.length).toBeGreaterThan(0);
    for (const n of choices) expect(Array.from(out[n]!), n).toEqual(Array.from(f.ref.get(n)!.data));
  });
});
