// On a GPU machine: differential testing of the CUDA target (issue 9's random models, tests/differential): N random
// valid specs with seeded weights and ids, run on the reference executor and through CUDA (f32, rendered for this
// GPU, NVRTC), their outputs compared (floats: relative L2 < 1e-4; expert indices equal unless the reference's
// scores were within 1e-6 of a tie). Prints the totals and each failing model's .moe text.
//   node diff-check.mjs [--runs N] [--seed S]
import fc from 'fast-check';
import { planMemory } from '../../compiler/kernel/memory-plan.ts';
import { typeEnvironment } from '../../compiler/ir/verify.ts';
import { archOf, cudaCompiled, renderProgram } from '../../targets/cuda/render.ts';
import { cudaKernelProgram } from '../../targets/cuda/program.ts';
import { openCuda } from '../../runtime/cuda/driver.ts';
import { CudaProgram } from '../../runtime/cuda/run.ts';
import { modelData, runData } from '../../tests/differential/arbitrary.ts';
import { buildGraph, modelRun } from '../../tests/differential/build.ts';
import { nearTie } from '../../tests/differential/near-tie.ts';
import { renderSpec } from '../../tests/differential/render.ts';
import { execute } from '../../runtime/reference/index.ts';
import { relativeL2 } from '../torch-compare.ts';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const runs = arg('runs', 100);
const seed = arg('seed', 1);
const cuda = openCuda();
const arch = archOf(cuda.capability);
console.log(`differential testing of the CUDA target on ${cuda.device} (${arch}): ${runs} random models, seed ${seed}`);
const t0 = performance.now();
let ok = 0;
let ties = 0;
const failures: string[] = [];
for (const [index, [model, r]] of fc.sample(fc.tuple(modelData, runData), { numRuns: runs, seed }).entries()) {
  if (index > 0 && index % 10 === 0) console.log(`… ${index} models, ${ok} agree, ${failures.length} differ, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  const text = renderSpec(model);
  const { graph, vocab } = buildGraph(text);
  const run = modelRun(graph, vocab, r);
  const types = typeEnvironment(graph);
  const feeds = Object.fromEntries(graph.inputs.map((i) => [i.name, { dtype: 'i32' as const, shape: [run.sizes.batch!, run.sizes.seq!], data: run.ids[i.name]! }]));
  const { outputs } = execute(graph, (n) => ({ dtype: 'f32', shape: run.weights.get(n)!.shape, data: run.weights.get(n)!.data }), feeds, run.sizes);
  const want = new Map(Object.entries(outputs).map(([k, t]) => [k, t.data]));
  const program = cudaKernelProgram(graph);
  const p = new CudaProgram(cuda, program, planMemory(program), cudaCompiled(renderProgram(program, { precision: 'f32', arch })));
  let got: Record<string, Float32Array | Int32Array>;
  try {
    got = p.run({ params: (n) => run.weights.get(n)!.data, inputs: run.ids, sizes: run.sizes });
  } finally {
    p.destroy();
  }
  let why: string | undefined;
  let tie = false;
  for (const o of graph.outputs) {
    const w = want.get(o.name)!;
    const g = got[o.name]!;
    if (w instanceof Int32Array || g instanceof Int32Array) {
      if (w.some((v, i) => v !== g[i])) {
        // A routing decision the reference made within 1e-6 of a tie may legitimately go the other way.
        const name = o.name.replace('expert_indices', 'router_logits');
        const logits = want.get(name);
        const experts = Number(types.get(graph.outputs.find((x) => x.name === name)?.value ?? '')?.shape.at(-1));
        if (logits instanceof Float32Array && experts > 0 && nearTie(logits, experts, 1e-6)) tie = true;
        else why ??= `${o.name}: expert choices differ`;
      }
    } else {
      const e = relativeL2(g as Float32Array, w as Float32Array);
      if (!(e < 1e-4)) why ??= `${o.name}: relative L2 ${e.toExponential(2)}`;
    }
  }
  if (why && !tie) failures.push(`${why} (run ${JSON.stringify(r)})\n${text}`);
  else if (tie) ties++;
  else ok++;
}
console.log(`${ok} models agree, ${ties} stopped at near ties, ${failures.length} differ; ${((performance.now() - t0) / 1000).toFixed(0)} s`);
for (const f of failures.slice(0, 5)) console.log(`--- ${f}`);
cuda.close();
