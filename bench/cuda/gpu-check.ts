// On a GPU machine: the HF fixtures through the CUDA target (CUDA C compiled by NVRTC, run through the driver API):
// relative L2 of logits against transformers, expert choices against the reference executor; f32, and bf16 and f16
// rendered for sm_80 (mma.sync) and, on an H100, for sm_90a (wgmma).
//   node gpu-check.mjs [--wide | --no-attention] FIXTURE_DIR…
import { relativeL2 } from '../torch-compare.ts';
import { fixtureReference, fixtureRun } from '../../tests/helpers/fixtures.ts';
import { runProgram } from '../../compiler/kernel/interpret.ts';
import { attentionCases, attentionGraph, attentionInputs } from '../../tests/helpers/attention-cases.ts';
import { writeFileSync } from 'node:fs';
import { checkOrThrow } from '../../compiler/api.ts';
import { importHf } from '../../compiler/import/hf/index.ts';
import { lowerModel } from '../../compiler/lower/model.ts';
import { runPipeline } from '../../compiler/passes/pipeline.ts';
import { planMemory } from '../../compiler/kernel/memory-plan.ts';
import { scheduleGraph } from '../../compiler/kernel/schedule.ts';
import { archOf, cudaCompiled, renderProgram, type CudaArch, type Precision } from '../../targets/cuda/render.ts';
import { cudaKernelProgram } from '../../targets/cuda/program.ts';
import { openCuda } from '../../runtime/cuda/driver.ts';
import { CudaProgram } from '../../runtime/cuda/run.ts';

const cuda = openCuda();
console.log(`device: ${cuda.device}, sm_${cuda.capability.join('')}`);
const args = process.argv.slice(2);
// --wide: only the wide-head attention cases (no fixtures).
const wideOnly = args.includes('--wide');
for (const [i, dir] of args.filter((a) => !a.startsWith('--')).entries()) {
  const path = `/tmp/fixture${i}.moe`;
  writeFileSync(path, importHf(dir).text);
  const spec = checkOrThrow(path);
  const graph = runPipeline(lowerModel(spec));
  const program = cudaKernelProgram(graph);
  const run = fixtureRun(dir, spec, graph);
  const { weights, ids, sizes } = run;
  const { ref, want } = fixtureReference(dir, graph, run);
  const hopper = archOf(cuda.capability) === 'sm_90a';
  const variants: [Precision, CudaArch][] = [['f32', 'sm_80'], ['bf16', 'sm_80'], ['f16', 'sm_80'], ...(hopper ? [['bf16', 'sm_90a'], ['f16', 'sm_90a']] as [Precision, CudaArch][] : [])];
  for (const [precision, arch] of variants) {
    const c = renderProgram(program, { precision, arch });
    const t0 = performance.now();
    const p = new CudaProgram(cuda, program, planMemory(program), cudaCompiled(c));
    const compileMs = performance.now() - t0;
    let gpuMs = 0;
    const out = p.run({ params: (n) => weights.get(n)!.data, inputs: ids, sizes }, { time: (ms) => (gpuMs = ms) });
    p.destroy();
    const choices = [...ref.keys()].filter((k) => k.startsWith('expert_indices.'));
    const total = choices.reduce((n, k) => n + ref.get(k)!.data.length, 0);
    const same = choices.reduce((n, k) => n + out[k]!.filter((v, j) => v === ref.get(k)!.data[j]).length, 0);
    console.log(`${dir} [${precision}, ${arch}]: logits rel L2 ${relativeL2(out.logits!, want).toExponential(2)}, expert choices ${same === total ? 'identical' : `${same} of ${total} the same`} (${choices.length} layers); NVRTC ${compileMs.toFixed(0)} ms for ${c.functions.length} functions, forward ${gpuMs.toFixed(3)} ms`);
  }
}
// The fused attention against the kernel interpreter's loop nest: the tests' cases at lengths past one key tile and
// one query block, and wide heads.
const wide = [
  { name: 'causal, head 96, value 80, RoPE', attrs: 'causal = true, scale = 0.1, rope_theta = 10000.0, rope_rotary_dim = 96', d: 96, dv: 80, bias: false },
  { name: 'bidirectional, head 160, value 160', attrs: 'causal = false, scale = 0.08', d: 160, dv: 160, bias: false },
  { name: 'causal, head 128 (Mixtral), GQA, RoPE', attrs: 'causal = true, scale = 0.0883883461356163, rope_theta = 1000000.0, rope_rotary_dim = 128', d: 128, dv: 128, bias: false },
];
for (const c of args.includes('--no-attention') ? [] : wideOnly ? wide : [...attentionCases, ...wide]) {
  console.log(`attention, ${c.name}: starting`);
  const program = scheduleGraph(attentionGraph(c));
  const r = renderProgram(program);
  if (!r.source.includes('as one fused kernel')) throw new Error(`${c.name}: the attention was not fused`);
  const p = new CudaProgram(cuda, program, planMemory(program), cudaCompiled(r));
  const worst: string[] = [];
  for (const [batch, seq] of [[1, 7], [2, 200], [1, 300]] as const) {
    const inputs = attentionInputs(c, batch, seq);
    const want = runProgram(program, { params: () => new Float32Array(0), inputs, sizes: { batch, seq } });
    let ms = 0;
    const got = p.run({ params: () => new Float32Array(0), inputs, sizes: { batch, seq } }, { time: (t) => (ms = t) });
    worst.push(`${seq} tokens ${relativeL2(got.y!, want.y!).toExponential(2)} (${ms.toFixed(3)} ms)`);
  }
  p.destroy();
  console.log(`attention, ${c.name}: ${worst.join(', ')}`);
}
cuda.close();
