// npm run bench:webgpu: one MoE FFN layer (router, top-k, SwiGLU experts, combine) compiled to WGSL and timed on a
// WebGPU adapter, at Mixtral-8x7B and OLMoE shapes, in f32; with --torch DIR, the same layer's PyTorch timings and
// outputs from bench/torch_moe.py (run on the same GPU first) are read, the outputs compared and the
// speed-ups printed. Also the generated matmul's TFLOP/s at n³. Writes a JSON and a markdown table.
//
//   npm run bench:webgpu -- [--adapter NAME] [--shapes mixtral,olmoe] [--tokens 16,512,4096] [--n 4096]
//                           [--torch DIR] [--out bench/results/webgpu-moe]
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseGraph } from '../../compiler/ir/parse.ts';
import { planMemory } from '../../compiler/kernel/memory-plan.ts';
import { scheduleGraph } from '../../compiler/kernel/schedule.ts';
import type { KernelProgram } from '../../compiler/kernel/ir.ts';
import { renderProgram } from '../../targets/wgsl/render.ts';
import { openDevice, type GpuDevice } from '../../runtime/webgpu/device.ts';
import { WebGpuProgram, type Storage } from '../../runtime/webgpu/run.ts';
import { hashTensor, layerFlops, moeLayerGraph, paramTensor, shapes, tensorScale, tensorSalt } from '../moe-layer.ts';

const { values } = parseArgs({
  options: {
    adapter: { type: 'string' },
    shapes: { type: 'string', default: 'mixtral,olmoe' },
    tokens: { type: 'string', default: '16,512,4096' },
    n: { type: 'string', default: '4096' },
    torch: { type: 'string' },
    out: { type: 'string', default: 'bench/results/webgpu-moe' },
  },
});

interface TorchEntry { shape: string; tokens: number; variant: string; ms: number }
const torchTimings: TorchEntry[] = values.torch ? (JSON.parse(readFileSync(join(values.torch, 'timings.json'), 'utf8')) as { results: TorchEntry[] }).results : [];
const torchMachine = values.torch ? (JSON.parse(readFileSync(join(values.torch, 'timings.json'), 'utf8')) as { machine: string }).machine : undefined;

/**
 * Milliseconds of one forward: `repeat` forwards encoded in one compute pass less a single one (uploads, the readback
 * and the submit cancel out), the best of 5 of each.
 */
async function time(run: (repeat: number) => Promise<unknown>): Promise<number> {
  const best = async (repeat: number) => {
    let m = Infinity;
    for (let t = 0; t < 5; t++) {
      const t0 = performance.now();
      await run(repeat);
      m = Math.min(m, performance.now() - t0);
    }
    return m;
  };
  await run(1);
  const once = await best(1);
  // Enough forwards for about half a second of GPU work, at least 4.
  const reps = Math.max(4, Math.min(50, Math.round(500 / Math.max(once, 1))));
  return ((await best(reps + 1)) - once) / reps;
}

const rel = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let num = 0, den = 0;
  for (let i = 0; i < b.length; i++) { num += (a[i]! - b[i]!) ** 2; den += b[i]! ** 2; }
  return Math.sqrt(num / den);
};

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
    const x = hashTensor(tokens * shape.dModel, tensorSalt('x'), tensorScale('x', shape.dModel));
    const run = (repeat: number) => p.run({ params: () => { throw new Error('weights are loaded'); }, inputs: { x }, sizes: { batch: 1, seq: tokens } }, { repeat });
    const out = await run(1);
    const ms = await time(run);
    const row: Row = { shape: key, tokens, ms, tflops: layerFlops(shape, tokens) / (ms / 1000) / 1e12, torch: {} };
    for (const t of torchTimings.filter((t) => t.shape === key && t.tokens === tokens)) row.torch[t.variant] = t.ms;
    if (values.torch) row.check = compareWithTorch(key, tokens, out, shape.topK);
    rows.push(row);
    console.error(JSON.stringify(row));
  }
  p.destroy();
  return rows;
}

function compareWithTorch(key: string, tokens: number, out: Record<string, Storage>, k: number): Row['check'] {
  const yPath = join(values.torch!, `y_${key}_${tokens}.f32`);
  const ePath = join(values.torch!, `experts_${key}_${tokens}.i32`);
  if (!existsSync(yPath)) return undefined;
  // (Copies: a small file's Buffer is a view into Node's shared pool, not an ArrayBuffer of its own.)
  const bytes = (path: string) => Uint8Array.from(readFileSync(path)).buffer;
  const y = new Float32Array(bytes(yPath));
  const e = new Int32Array(bytes(ePath));
  const got = out.experts as Int32Array;
  let same = 0;
  for (let t = 0; t < tokens; t++) {
    const a = [...got.subarray(t * k, (t + 1) * k)].sort((p, q) => p - q).join();
    const b = [...e.subarray(t * k, (t + 1) * k)].sort((p, q) => p - q).join();
    if (a === b) same++;
  }
  return { relL2: rel(out.y!, y), sameExperts: same / tokens };
}

async function matmul(gpu: GpuDevice, n: number): Promise<{ n: number; ms: number; tflops: number }> {
  const mm: KernelProgram = scheduleGraph(parseGraph(`graph mm {\n  input %x: f32[rows, ${n}]\n  param @w: f32[${n}, ${n}]\n  %0 = linear(%x, @w) : f32[rows, ${n}]\n  output y = %0\n}`));
  const p = await WebGpuProgram.create(gpu, mm, planMemory(mm), renderProgram(mm, { features: gpu.shaderFeatures }));
  const w = hashTensor(n * n, 1, 1);
  const x = hashTensor(n * n, 2, 1);
  const ms = await time((repeat) => p.run({ params: () => w, inputs: { x }, sizes: { rows: n } }, { repeat }));
  p.destroy();
  return { n, ms, tflops: (2 * n ** 3) / (ms / 1000) / 1e12 };
}

const gpu = await openDevice(values.adapter);
console.error(`adapter: ${gpu.adapter}; features: ${gpu.features.join(', ') || 'none'}`);
const tokenCounts = values.tokens!.split(',').map(Number);
const rows: Row[] = [];
for (const key of values.shapes!.split(',')) rows.push(...(await benchLayer(gpu, key, tokenCounts)));
const mm = await matmul(gpu, Number(values.n));

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
console.log(lines.join('\n'));
writeFileSync(`${values.out}.json`, JSON.stringify({ adapter: gpu.adapter, features: gpu.features, torchMachine, rows, matmul: mm }, null, 2));
writeFileSync(`${values.out}.md`, `${lines.join('\n')}\n`);
process.exit(0);
