// npm run bench:ep — expert parallelism on NVIDIA GPUs through NCCL: one Mixtral-8x7B MoE layer in bf16 at 4096 and
// 16384 tokens on one device (no exchange), and under expert parallelism on 1 rank (the exchanges as local copies:
// their cost without a link) and on every GPU of the machine (R ranks, each with tokens / R of the tokens and
// 8 / R experts): forward GPU time, the exchanges' share, and scaling efficiency (one device's time / (R × the
// R-rank time)). Weights and inputs from bench/moe-layer.ts's hash. Prints a markdown table (or --json).
import { planMemory } from '../../compiler/kernel/memory-plan.ts';
import { archOf, cudaCompiled, renderProgram } from '../../targets/cuda/render.ts';
import { cudaKernelProgram } from '../../targets/cuda/program.ts';
import { openCuda, type Cuda } from '../../runtime/cuda/driver.ts';
import { openNccl } from '../../runtime/cuda/nccl.ts';
import { runExpertParallel, type ExpertParallelTiming } from '../../runtime/cuda/ranks.ts';
import { CudaProgram } from '../../runtime/cuda/run.ts';
import { rankWeights } from '../../runtime/weights/shard.ts';
import { hashTensor, moeLayerGraph, paramTensor, shapes, tensorSalt, tensorScale } from '../moe-layer.ts';

const json = process.argv.includes('--json');
const reps = 5;
const shape = shapes.mixtral!;
const first = openCuda(0);
const nccl = openNccl();
const gpus: Cuda[] = [first, ...Array.from({ length: first.deviceCount - 1 }, (_, r) => openCuda(r + 1))];
const rows: { tokens: number; setup: string; ms: number; exchangeShare: number; efficiency?: number }[] = [];
const arch = archOf(first.capability);

for (const tokens of [4096, 16384]) {
  const x = hashTensor(tokens * shape.dModel, tensorSalt('x'), tensorScale('x', shape.dModel));
  // One device, the layer as the model runs it.
  const single = moeLayerGraph(shape);
  const weights = new Map(single.params.map((p) => [p.name, { shape: p.type.shape as number[], data: paramTensor(p) }]));
  const program = cudaKernelProgram(single);
  first.use();
  const p = new CudaProgram(first, program, planMemory(program), cudaCompiled(renderProgram(program, { precision: 'bf16', arch })));
  let oneMs = 0;
  p.run({ params: (n) => weights.get(n)!.data, inputs: { x }, sizes: { batch: 1, seq: tokens } });
  p.run({ params: (n) => weights.get(n)!.data, inputs: { x }, sizes: { batch: 1, seq: tokens } }, { repeat: reps, time: (ms) => (oneMs = ms / reps) });
  p.destroy();
  rows.push({ tokens, setup: '1 GPU', ms: oneMs, exchangeShare: 0 });

  for (const ranks of [...new Set([1, gpus.length])]) {
    if (tokens % ranks !== 0) continue;
    const graph = moeLayerGraph(shape, undefined, ranks);
    const ep = cudaKernelProgram(graph);
    const compiled = cudaCompiled(renderProgram(ep, { precision: 'bf16', arch }));
    const comms = nccl.initAll(gpus.slice(0, ranks).map((g) => g.ordinal));
    const local = gpus.slice(0, ranks).map((cuda, rank) => {
      cuda.use();
      return { rank, cuda, comm: comms[rank], program: new CudaProgram(cuda, ep, planMemory(ep), compiled) };
    });
    const share = tokens / ranks;
    const runs = local.map((l) => {
      const w = rankWeights(graph.params, weights, l.rank);
      return { params: (n: string) => w.get(n)!.data, inputs: { x: x.subarray(l.rank * share * shape.dModel, (l.rank + 1) * share * shape.dModel) }, sizes: { batch: 1, seq: share } };
    });
    runExpertParallel(nccl, local, runs);
    const t: ExpertParallelTiming = { compute: 0, exchange: 0 };
    for (let i = 0; i < reps; i++) runExpertParallel(nccl, local, runs, t);
    for (const l of local) {
      l.cuda.use();
      l.program.destroy();
    }
    for (const c of comms) nccl.destroy(c);
    const ms = (t.compute + t.exchange) / reps;
    rows.push({ tokens, setup: `${ranks} GPU${ranks > 1 ? 's' : ''}, expert-parallel`, ms, exchangeShare: t.exchange / (t.compute + t.exchange), efficiency: oneMs / (ranks * ms) });
  }
}

if (json) console.log(JSON.stringify({ device: first.device, gpus: gpus.length, nccl: nccl.version, layer: shape.name, precision: 'bf16', rows }, null, 2));
else {
  console.log(`${shape.name} MoE layer, bf16, ${first.device} × ${gpus.length}, NCCL ${nccl.version}; GPU ms per forward (mean of ${reps})\n`);
  console.log('| tokens | setup | ms | exchange share | scaling efficiency |\n|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.tokens} | ${r.setup} | ${r.ms.toFixed(3)} | ${(100 * r.exchangeShare).toFixed(1)}% | ${r.efficiency === undefined ? '—' : `${(100 * r.efficiency).toFixed(0)}%`} |`);
}
