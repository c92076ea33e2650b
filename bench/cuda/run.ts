// npm run bench:cuda: one MoE FFN layer (router, top-k, SwiGLU experts, combine) compiled to CUDA C and run through
// the driver API, at Mixtral-8x7B, Qwen1.5-MoE and OLMoE shapes; with --torch DIR, PyTorch's timings and f32 outputs
// from bench/torch_moe.py (run first on the same GPU) are read, the outputs compared on identical weights, and the
// speed-ups and the fraction of the roofline printed. Writes a JSON and a markdown table.
//
//   npm run bench:cuda -- [--precision bf16|f16|f32] [--arch sm_80|sm_90a] [--shapes mixtral,qwen,olmoe] [--tokens …]
//                         [--torch DIR] [--out FILE] [--profile] [--json] [--quiet]
// --json prints the JSON it writes on stdout instead of the markdown table; --quiet: no progress bar.
// --profile: each kernel timed on its own (events around each launch), the layer's time split by op.
// --tall JSON: fields of the tall tile to change (targets/cuda/mma-gemm.ts MmaTile), for tuning.
// The CUDA C is rendered for the GPU (sm_90a's wgmma on an H100) unless --arch says otherwise.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { planMemory } from '../../compiler/kernel/memory-plan.ts';
import { archTiles } from '../../targets/cuda/mma-gemm.ts';
import { archOf, archs, cudaCompiled, precisions, renderProgram, type CudaArch, type Precision } from '../../targets/cuda/render.ts';
import { cudaKernelProgram } from '../../targets/cuda/program.ts';
import { openCuda, type Cuda } from '../../runtime/cuda/driver.ts';
import { CudaProgram } from '../../runtime/cuda/run.ts';
import { compareWithTorch, readTorch } from '../torch-compare.ts';
import { benchSteps } from '../steps.ts';
import { hashTensor, layerFlops, moeLayerGraph, paramTensor, shapes, tensorScale, tensorSalt, type LayerShape } from '../moe-layer.ts';

const { values } = parseArgs({
  options: {
    precision: { type: 'string', default: 'bf16' },
    arch: { type: 'string' },
    profile: { type: 'boolean', default: false },
    tall: { type: 'string' },
    shapes: { type: 'string', default: 'mixtral,qwen,olmoe' },
    tokens: { type: 'string' },
    torch: { type: 'string' },
    out: { type: 'string', default: 'bench/results/cuda-moe' },
    json: { type: 'boolean', default: false },
    quiet: { type: 'boolean', default: false },
  },
});
if (!(precisions as readonly string[]).includes(values.precision!)) throw new Error(`--precision must be one of ${precisions.join(', ')}, got '${values.precision}'`);
const precision = values.precision as Precision;
if (values.arch !== undefined && !(archs as readonly string[]).includes(values.arch)) throw new Error(`--arch must be ${archs.join(' or ')}, got '${values.arch}'`);
/** The issue's token counts per shape. */
const defaultTokens: Record<string, number[]> = { mixtral: [16, 512, 4096, 16384], qwen: [16, 4096, 16384], olmoe: [16, 4096, 16384] };
/** The H100's measured limits (issue 7): HBM bandwidth and dense bf16 tensor-core throughput. */
const HBM = 3.0e12;
const BF16 = 798e12;

const torchFile = values.torch ? readTorch(values.torch) : undefined;
const tokensOf = (key: string) => (values.tokens ? values.tokens.split(',').map(Number) : defaultTokens[key]!);

/**
 * The layer's roofline on the H100 in bf16: the weights of every expert some token uses read once (2 bytes each), x
 * read and y written in f32, against the dense bf16 rate for its FLOPs; the larger of the two times.
 */
function rooflineMs(shape: LayerShape, tokens: number, expertsUsed: number): number {
  const traffic = expertsUsed * 3 * shape.dModel * shape.hidden * 2 + shape.experts * shape.dModel * 4 + 2 * tokens * shape.dModel * 4;
  return 1000 * Math.max(traffic / HBM, layerFlops(shape, tokens) / BF16);
}

interface Row {
  shape: string; tokens: number; ms: number; tflops: number; rooflineMs: number;
  torch: Record<string, number>;
  check?: { relL2: number; sameExperts: number };
  /** With --profile: milliseconds a layer spends in each op (kernels named by op, variants together). */
  profile?: Record<string, number>;
}

function benchLayer(cuda: Cuda, arch: CudaArch, key: string): Row[] {
  const shape = shapes[key]!;
  const graph = moeLayerGraph(shape);
  const program = cudaKernelProgram(graph);
  const p = new CudaProgram(cuda, program, planMemory(program), cudaCompiled(renderProgram(program, { precision, arch, ...(values.tall ? { tiles: { tall: { ...archTiles(arch).tall, ...JSON.parse(values.tall) } } } : {}) })));
  const byName = new Map(graph.params.map((q) => [q.name, q]));
  const t0 = performance.now();
  p.load((name) => paramTensor(byName.get(name)!));
  console.error(`${shape.name}: weights generated and uploaded in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const rows: Row[] = [];
  for (const tokens of tokensOf(key)) {
    steps.start(`${shape.name}, ${tokens} tokens`);
    const x = hashTensor(tokens * shape.dModel, tensorSalt('x'), tensorScale('x', shape.dModel));
    const r = { params: () => { throw new Error('weights are loaded'); }, inputs: { x }, sizes: { batch: 1, seq: tokens } };
    let once = 0;
    const out = p.run(r, { time: (ms) => (once = ms) });
    // Launches for about half a second of GPU time, at least 5, timed by events around them; the median of 3 runs.
    const repeat = Math.max(5, Math.min(200, Math.round(500 / Math.max(once, 0.01))));
    const runs = [0, 1, 2].map(() => {
      let ms = 0;
      p.run(r, { repeat, time: (t) => (ms = t / repeat) });
      return ms;
    }).sort((a, b) => a - b);
    const ms = runs[1]!;
    let profile: Record<string, number> | undefined;
    if (values.profile) {
      const perKernel = new Map<string, number>();
      const times = 5;
      p.run(r, { repeat: times, perKernel });
      profile = {};
      for (const [k, t] of perKernel) {
        const op = k.replace(/^k\d+_/, '');
        profile[op] = (profile[op] ?? 0) + t / times;
      }
    }
    const used = new Set(out.experts as Int32Array).size;
    const row: Row = { shape: key, tokens, ms, tflops: layerFlops(shape, tokens) / (ms / 1000) / 1e12, rooflineMs: rooflineMs(shape, tokens, used), torch: {}, ...(profile ? { profile } : {}) };
    for (const t of torchFile?.results.filter((t) => t.shape === key && t.tokens === tokens) ?? []) row.torch[t.variant] = t.ms;
    if (values.torch) row.check = compareWithTorch(values.torch, key, tokens, out.y as Float32Array, out.experts as Int32Array, shape.topK);
    rows.push(row);
    steps.clear();
    console.error(JSON.stringify(row));
  }
  p.destroy();
  return rows;
}

const cuda = openCuda();
const arch = (values.arch as CudaArch | undefined) ?? archOf(cuda.capability);
console.error(`device: ${cuda.device}, sm_${cuda.capability.join('')}; precision ${precision}, rendered for ${arch}`);
const steps = benchSteps(values.shapes!.split(',').reduce((n, key) => n + tokensOf(key).length, 0), values);
const rows = values.shapes!.split(',').flatMap((key) => benchLayer(cuda, arch, key));
cuda.close();

const variants = [...new Set(torchFile?.results.map((t) => t.variant) ?? [])];
const fastest = (r: Row) => Math.min(...variants.map((v) => r.torch[v] ?? Infinity));
const lines = [
  `device: ${cuda.device}; moec CUDA C in ${precision} for ${arch}${values.tall ? ` (tall tile ${values.tall})` : ''}${torchFile ? `; PyTorch: ${torchFile.machine}` : ''}`,
  '',
  `| layer | tokens | moec ms | TFLOP/s | roofline ms | of roofline | ${variants.map((v) => `PyTorch ${v} ms | speed-up`).join(' | ')} | y rel L2 vs PyTorch f32 | same experts |`,
  `|---|---|---|---|---|---|${variants.map(() => '---|---|').join('')}---|---|`,
  ...rows.map((r) => `| ${shapes[r.shape]!.name} | ${r.tokens} | ${r.ms.toFixed(3)} | ${r.tflops.toFixed(1)} | ${r.rooflineMs.toFixed(3)} | ${(r.rooflineMs / r.ms * 100).toFixed(0)}% | ${variants.map((v) => (r.torch[v] === undefined ? '– | –' : `${r.torch[v]!.toFixed(3)} | ${(r.torch[v]! / r.ms).toFixed(2)}×`)).join(' | ')} | ${r.check ? r.check.relL2.toExponential(2) : '–'} | ${r.check ? `${(100 * r.check.sameExperts).toFixed(2)}%` : '–'} |`),
  '',
  variants.length ? `faster than the fastest PyTorch variant at ${rows.filter((r) => r.ms < fastest(r)).length} of ${rows.length} shapes` : '',
  ...(values.profile ? ['', 'Each kernel timed on its own (ms; launches one after another, so the sum is a little over the layer\'s time):', '', ...rows.map((r) => `- ${shapes[r.shape]!.name}, ${r.tokens} tokens: ${Object.entries(r.profile!).map(([op, t]) => `${op} ${t.toFixed(3)}`).join(', ')}`)] : []),
];
const json = { device: cuda.device, precision, arch, torchMachine: torchFile?.machine, rows };
console.log(values.json ? JSON.stringify(json, null, 2) : lines.join('\n'));
writeFileSync(`${values.out}.json`, JSON.stringify(json, null, 2));
writeFileSync(`${values.out}.md`, `${lines.join('\n')}\n`);
