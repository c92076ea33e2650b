// npm run bench:webgpu: one MoE FFN layer (router, top-k, SwiGLU experts, combine) compiled to WGSL and timed on a
// WebGPU adapter, at Mixtral-8x7B and OLMoE shapes, in f32; with --torch DIR, the same layer's PyTorch timings and
// outputs from bench/torch_moe.py (run on the same GPU first) are read, the outputs compared and the
// speed-ups printed. Also the generated matmul's TFLOP/s at n³. Writes a JSON and a markdown table.
//
//   npm run bench:webgpu -- [--adapter NAME] [--shapes mixtral,olmoe] [--tokens 16,512,4096] [--n 4096]
//                           [--torch DIR] [--out bench/results/webgpu-moe] [--json] [--quiet]
// --json prints the JSON it writes on stdout instead of the markdown table; --quiet: no progress bar.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseGraph } from '../../compiler/ir/parse.ts';
import { planMemory } from '../../compiler/kernel/memory-plan.ts';
import { scheduleGraph } from '../../compiler/kernel/schedule.ts';
import type { KernelProgram } from '../../compiler/kernel/ir.ts';
import { renderProgram } from '../../targets/wgsl/render.ts';
import { openDevice, type GpuDevice } from '../../runtime/webgpu/device.ts';
import { WebGpuProgram } from '../../runtime/webgpu/run.ts';
import { compareWithTorch, readTorch } from '../torch-compare.ts';
import { timeForward } from './timing.ts';
import { benchSteps } from '../steps.ts';
import { hashTensor, layerFlops, moeLayerGraph, paramTensor, shapes, tensorScale, tensorSalt } from '../moe-layer.ts';

const { values } = parseArgs({
  options: {
    adapter: { type: 'string' },
    shapes: { type: 'string', default: 'mixtral,olmoe' },
    tokens: { type: 'string', default: '16,512,4096' },
    n: { type: 'string', default: '4096' },
    torch: { type: 'string' },
    out: { type: 'string', default: 'bench/results/webgpu-moe' },
    json: { type: 'boolean', default: false },
    quiet: { type: 'boolean', default: false },
  },
});

const torchFile = values.torch ? readTorch(values.torch) : undefined;
const torchTimings = torchFile?.results ?? [];
const torchMachine = torchFile?.machine;

interface Row {
  shape: string; tokens: number; ms: number; tflops: number;
  torch: Record<string, number>;
  /** Against PyTorch f32 on the same weights: relative L2 of y, and the fraction of tokens with the same experts. */
  check?: { relL2: number; sameExperts: number };
}

async function benchLayer(gpu: GpuDevice, key: string, tokenCounts: number[]): Promise<Row[]> {
  const shape = shapes[key]!;
  const graph = moeLayerGraph(shape);
  const program = scheduleGraph(graph);
  const p = await WebGpuProgram.create(gpu, program, planMemory(program), renderProgram(program, { features: gpu.shaderFeatures }));
  const t0 = performance.now();
  const byName = new Map(graph.params.map((q) => [q.name, q]));
  await p.load((name) => paramTensor(byName.get(name)!));
  await gpu.device.queue.onSubmittedWorkDone();
  console.error(`${shape.name}: weights generated and uploaded in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const rows: Row[] = [];
  for (const tokens of tokenCounts) {
    steps.start(`${shape.name}, ${tokens} tokens`);
    const x = hashTensor(tokens * shape.dModel, tensorSalt('x'), tensorScale('x', shape.dModel));
    const run = (repeat: number) => p.run({ params: () => { throw new Error('weights are loaded'); }, inputs: { x }, sizes: { batch: 1, seq: tokens } }, { repeat });
    const out = await run(1);
    const ms = await timeForward(run);
    const row: Row = { shape: key, tokens, ms, tflops: layerFlops(shape, tokens) / (ms / 1000) / 1e12, torch: {} };
    for (const t of torchTimings.filter((t) => t.shape === key && t.tokens === tokens)) row.torch[t.variant] = t.ms;
    if (values.torch) row.check = compareWithTorch(values.torch, key, tokens, out.y as Float32Array, out.experts as Int32Array, shape.topK);
    rows.push(row);
    steps.clear();
    console.error(JSON.stringify(row));
  }
  p.destroy();
  return rows;
}

async function matmul(gpu: GpuDevice, n: number): Promise<{ n: number; ms: number; tflops: number }> {
  const mm: KernelProgram = scheduleGraph(parseGraph(`graph mm {\n  input %x: f32[rows, ${n}]\n  param @w: f32[${n}, ${n}]\n  %0 = linear(%x, @w) : f32[rows, ${n}]\n  output y = %0\n}`));
  const p = await WebGpuProgram.create(gpu, mm, planMemory(mm), renderProgram(mm, { features: gpu.shaderFeatures }));
  const w = hashTensor(n * n, 1, 1);
  const x = hashTensor(n * n, 2, 1);
  const ms = await timeForward((repeat) => p.run({ params: () => w, inputs: { x }, sizes: { rows: n } }, { repeat }));
  p.destroy();
  return { n, ms, tflops: (2 * n ** 3) / (ms / 1000) / 1e12 };
}

const gpu = await openDevice(values.adapter);
console.error(`adapter: ${gpu.adapter}; features: ${gpu.features.join(', ') || 'none'}`);
const tokenCounts = values.tokens!.split(',').map(Number);
const steps = benchSteps(values.shapes!.split(',').length * tokenCounts.length + 1, values);
const rows: Row[] = [];
for (const key of values.shapes!.split(',')) rows.push(...(await benchLayer(gpu, key, tokenCounts)));
steps.start(`matmul ${values.n}³`);
const mm = await matmul(gpu, Number(values.n));
steps.clear();

const variants = [...new Set(torchTimings.map((t) => t.variant))];
const lines = [
  `adapter: ${gpu.adapter}; features: ${gpu.features.join(', ') || 'none'}${torchMachine ? `; PyTorch: ${torchMachine}` : ''}`,
  '',
  `| layer | tokens | moec WGSL f32 ms | TFLOP/s | ${variants.map((v) => `PyTorch ${v} ms | moec speed-up`).join(' | ')} | y rel L2 vs PyTorch f32 | same experts |`,
  `|---|---|---|---|${variants.map(() => '---|---|').join('')}---|---|`,
  ...rows.map((r) => `| ${shapes[r.shape]!.name} | ${r.tokens} | ${r.ms.toFixed(3)} | ${r.tflops.toFixed(2)} | ${variants.map((v) => (r.torch[v] === undefined ? '– | –' : `${r.torch[v]!.toFixed(3)} | ${(r.torch[v]! / r.ms).toFixed(2)}×`)).join(' | ')} | ${r.check ? r.check.relL2.toExponential(2) : '–'} | ${r.check ? `${(100 * r.check.sameExperts).toFixed(2)}%` : '–'} |`),
  '',
  `generated matmul ${mm.n}³: ${mm.ms.toFixed(2)} ms, ${mm.tflops.toFixed(2)} TFLOP/s`,
];
const json = { adapter: gpu.adapter, features: gpu.features, torchMachine, rows, matmul: mm };
console.log(values.json ? JSON.stringify(json, null, 2) : lines.join('\n'));
writeFileSync(`${values.out}.json`, JSON.stringify(json, null, 2));
writeFileSync(`${values.out}.md`, `${lines.join('\n')}\n`);
process.exit(0);
