// On a GPU machine: expert parallelism through NCCL. Every fixture lowered for R ranks (default: every GPU of the
// machine; 1 GPU runs the same path with the exchanges as local copies), each rank on its own GPU with batch / R of
// the sequences and experts / R of every MoE layer's experts, one process driving all of them (ncclCommInitAll);
// the joined logits against the single-device reference executor (relative L2, fp32) and the expert choices
// (identical), with Switch-style token dropping (expert_capacity 2) on the switch fixture.
//   node ep-check.mjs [--ranks R] FIXTURE_DIR…
import { writeFileSync } from 'node:fs';
import { checkOrThrow } from '../../compiler/api.ts';
import { importHf } from '../../compiler/import/hf/index.ts';
import { lowerModel } from '../../compiler/lower/model.ts';
import { placementErrors } from '../../compiler/lower/placement.ts';
import { runPipeline } from '../../compiler/passes/pipeline.ts';
import { planMemory } from '../../compiler/kernel/memory-plan.ts';
import type { ModelSpec } from '../../compiler/spec/types.ts';
import { archOf, cudaCompiled, renderProgram, type Precision } from '../../targets/cuda/render.ts';
import { cudaKernelProgram } from '../../targets/cuda/program.ts';
import { openCuda, type Cuda } from '../../runtime/cuda/driver.ts';
import { openNccl } from '../../runtime/cuda/nccl.ts';
import { runExpertParallel } from '../../runtime/cuda/ranks.ts';
import { CudaProgram } from '../../runtime/cuda/run.ts';
import { referenceExecutor } from '../../runtime/run-model.ts';
import { splitRanks } from '../../runtime/expert-parallel.ts';
import { fixtureRun } from '../../tests/helpers/fixtures.ts';
import { relativeL2 } from '../torch-compare.ts';

const args = process.argv.slice(2);
const at = args.indexOf('--ranks');
const nccl = openNccl();
const first = openCuda(0);
const count = first.deviceCount;
const ranks = at >= 0 ? Number(args[at + 1]) : count;
const dirs = args.filter((a, i) => !a.startsWith('--') && (at < 0 || i !== at + 1));
console.log(`NCCL ${nccl.version}, ${count} GPU(s): ${first.device}; ${ranks} rank(s)`);
const gpus: Cuda[] = [first, ...Array.from({ length: ranks - 1 }, (_, r) => openCuda(r + 1))];
const comms = nccl.initAll(gpus.map((g) => g.ordinal));

const capacity = (s: ModelSpec): ModelSpec => JSON.parse(JSON.stringify(s), (_k, v) => (v?.kind === 'moe' ? { ...v, capacity: { perExpert: 2 } } : v));

function check(name: string, spec: ModelSpec, dir: string, precision: Precision): void {
  const errors = placementErrors(spec, ranks);
  if (errors.length) return void console.log(`${name}: cannot place on ${ranks} ranks: ${errors.join('; ')}`);
  const single = runPipeline(lowerModel(spec));
  const run = fixtureRun(dir, spec, single);
  const batch = run.sizes.batch!;
  if (batch % ranks !== 0) return void console.log(`${name}: batch ${batch} does not split over ${ranks} ranks`);
  const share = batch / ranks;
  const graph = runPipeline(lowerModel(spec, { expertParallel: ranks }));
  const split = splitRanks(graph, ranks, run.weights, run.ids, run.sizes);
  const want = referenceExecutor(runPipeline(lowerModel(spec, { capacityGroupSequences: share })))(run.weights, run.ids, run.sizes);
  const program = cudaKernelProgram(graph);
  const compiled = cudaCompiled(renderProgram(program, { precision, arch: archOf(first.capability) }));
  const local = gpus.map((cuda, rank) => {
    cuda.use();
    return { rank, cuda, comm: comms[rank], program: new CudaProgram(cuda, program, planMemory(program), compiled) };
  });
  const t0 = performance.now();
  const outs = runExpertParallel(nccl, local, split.ranks.map((r) => ({ params: (n: string) => r.weights.get(n)!.data, inputs: r.ids, sizes: split.sizes })));
  const ms = performance.now() - t0;
  for (const l of local) {
    l.cuda.use();
    l.program.destroy();
  }
  const joined = (k: string) => outs.flatMap((o) => Array.from(o[k]!));
  if (precision !== 'f32') {
    // Against one device in the same precision (the f32 reference differs by bf16's rounding, and flips near ties).
    const one = cudaKernelProgram(runPipeline(lowerModel(spec, { capacityGroupSequences: share })));
    first.use();
    const p = new CudaProgram(first, one, planMemory(one), cudaCompiled(renderProgram(one, { precision, arch: archOf(first.capability) })));
    const o = p.run({ params: (n) => run.weights.get(n)!.data, inputs: run.ids, sizes: run.sizes });
    p.destroy();
    const choices = Object.keys(o).filter((k) => k.startsWith('expert_indices.'));
    const same = choices.every((k) => joined(k).every((v, j) => v === o[k]![j]));
    console.log(`${name} [${precision}, ${ranks} rank(s)]: logits rel L2 ${relativeL2(Float32Array.from(joined('logits')), o.logits as Float32Array).toExponential(2)} against one device in ${precision}, expert choices ${same ? 'identical' : 'DIFFERENT'}`);
  }
  const choices = Object.keys(want).filter((k) => k.startsWith('expert_indices.'));
  const same = choices.every((k) => joined(k).every((v, j) => v === want[k]![j]));
  console.log(`${name} [${precision}, ${ranks} rank(s)]: logits rel L2 ${relativeL2(Float32Array.from(joined('logits')), want.logits as Float32Array).toExponential(2)} against one device, expert choices ${same ? 'identical' : 'DIFFERENT'} (${choices.length} layers), ${ms.toFixed(0)} ms with NVRTC`);
}

for (const [i, dir] of dirs.entries()) {
  const path = `/tmp/ep-fixture${i}.moe`;
  writeFileSync(path, importHf(dir).text);
  const spec = checkOrThrow(path);
  const name = dir.split('/').filter(Boolean).pop()!;
  check(name, spec, dir, 'f32');
  check(name, spec, dir, 'bf16');
  if (name === 'switch') check(`${name} with expert_capacity 2`, capacity(spec), dir, 'f32');
}
for (const c of comms) nccl.destroy(c);
