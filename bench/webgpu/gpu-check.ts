// On a GPU machine: the HF fixtures through the WGSL target on a WebGPU adapter (relative L2 of logits against
// transformers, expert choices against the reference executor), then the tiled matmul's throughput at n³.
//   node gpu-check.mjs [--adapter NAME] [--n 4096] FIXTURE_DIR…
import { relativeL2 } from '../torch-compare.ts';
import { fixtureReference, fixtureRun } from '../../tests/helpers/fixtures.ts';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { checkOrThrow } from '../../compiler/api.ts';
import { importHf } from '../../compiler/import/hf/index.ts';
import { parseGraph } from '../../compiler/ir/parse.ts';
import { lowerModel } from '../../compiler/lower/model.ts';
import { runPipeline } from '../../compiler/passes/pipeline.ts';
import { planMemory } from '../../compiler/kernel/memory-plan.ts';
import { scheduleGraph } from '../../compiler/kernel/schedule.ts';
import { renderProgram } from '../../targets/wgsl/render.ts';
import { openDevice } from '../../runtime/webgpu/device.ts';
import { timeForward } from './timing.ts';
import { WebGpuProgram } from '../../runtime/webgpu/run.ts';

const { values, positionals } = parseArgs({ options: { adapter: { type: 'string' }, n: { type: 'string', default: '4096' }, scratch: { type: 'string', default: '/tmp' } }, allowPositionals: true });
const prepared = positionals.map((dir, i) => {
  const path = join(values.scratch!, `fixture${i}.moe`);
  writeFileSync(path, importHf(dir).text);
  const spec = checkOrThrow(path);
  const graph = runPipeline(lowerModel(spec));
  const program = scheduleGraph(graph);
  const run = fixtureRun(dir, spec, graph);
  const { weights, ids, sizes } = run;
  const { ref, want } = fixtureReference(dir, graph, run);
  return { dir, program, weights, ids, sizes, ref, want };
});
const n = Number(values.n);
const mmGraph = parseGraph(`graph mm {\n  input %x: f32[rows, ${n}]\n  param @w: f32[${n}, ${n}]\n  %0 = linear(%x, @w) : f32[rows, ${n}]\n  output y = %0\n}`);
const mm = scheduleGraph(mmGraph);
const w = Float32Array.from({ length: n * n }, (_, i) => ((i * 7919) % 1000) / 1000 - 0.5);
const x = Float32Array.from({ length: n * n }, (_, i) => ((i * 104729) % 1000) / 1000 - 0.5);

const gpu = await openDevice(values.adapter);
console.log(`adapter: ${gpu.adapter}; features: ${gpu.features.join(', ') || 'none'}`);
console.log(`shaders may use: ${gpu.shaderFeatures.join(', ') || 'none'}; maxStorageBufferBindingSize ${gpu.device.limits.maxStorageBufferBindingSize}`);
for (const f of prepared) for (const features of [[], gpu.shaderFeatures]) {
  const p = await WebGpuProgram.create(gpu, f.program, planMemory(f.program), renderProgram(f.program, { features }));
  const out = await p.run({ params: (name) => f.weights.get(name)!.data, inputs: f.ids, sizes: f.sizes });
  p.destroy();
  const choices = [...f.ref.keys()].filter((k) => k.startsWith('expert_indices.'));
  const same = choices.every((k) => out[k]!.every((v, i) => v === f.ref.get(k)!.data[i]));
  console.log(`${f.dir} [${features.join() || 'no features'}]: logits rel L2 ${relativeL2(out.logits!, f.want).toExponential(2)}, expert choices ${same ? 'identical' : 'DIFFERENT'} (${choices.length} layers)`);
}
for (const tiled of [true, false]) {
  const p = await WebGpuProgram.create(gpu, mm, planMemory(mm), renderProgram(mm, { tiled }));
  const run = (repeat: number) => p.run({ params: () => w, inputs: { x }, sizes: { rows: n } }, { repeat });
  const ms = await timeForward(run, 20);
  console.log(`${tiled ? 'tiled' : 'loop-nest'} matmul ${n}³: ${ms.toFixed(2)} ms, ${((2 * n ** 3) / (ms / 1000) / 1e12).toFixed(2)} TFLOP/s`);
  p.destroy();
}
process.exit(0);
