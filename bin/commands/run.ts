// moec run FILE --weights PATH --input inputs.json --out OUT.safetensors: runs a model on the reference executor.
import { existsSync, statSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';
import { dirname } from 'node:path';
import { checkOrThrow } from '../../compiler/api.ts';
import { lowerModel } from '../../compiler/lower/model.ts';
import { checkPlacement } from '../../compiler/lower/placement.ts';
import { runPipeline } from '../../compiler/passes/pipeline.ts';
import { readInputs, tokenFeeds } from '../../runtime/inputs.ts';
import { checkFits, hostLimit, referenceLimit, wasmLimit } from '../../runtime/limits/fits.ts';
import { runNeeds } from '../../runtime/limits/needs.ts';
import { referenceExecutor, runModel, type NamedOutput } from '../../runtime/run-model.ts';
import { openCheckpoint, writeSafetensors } from '../../runtime/safetensors/index.ts';
import { parseExpertParallel, parseSets, UsageError } from '../output.ts';
import { cudaPrecision } from './precision.ts';
import { progressBar } from '../progress.ts';
import { withReadProgress } from '../../runtime/weights/read-progress.ts';
import { runJson } from './run-json.ts';

export interface RunOptions {
  set?: string[];
  model?: string;
  weights: string;
  input: string;
  out: string;
  target: string;
  dump?: string[];
  profile?: boolean;
  threads?: string;
  adapter?: string;
  weightDtype?: string;
  precision?: string;
  quiet?: boolean;
  json?: boolean;
  expertParallel?: string;
}

const targets = ['ref', 'wasm', 'webgpu', 'cuda'];

/** --expert-parallel N: how many ranks, where the target can run them. */
function expertParallel(opts: RunOptions): number | undefined {
  const n = parseExpertParallel(opts.expertParallel);
  if (n === undefined) return undefined;
  if (opts.target !== 'ref' && opts.target !== 'cuda') throw new UsageError(`--expert-parallel runs on --target ref (the ranks in lockstep in one process) or cuda (a GPU a rank, through NCCL), not ${opts.target}`);
  return n;
}

export async function runCommand(file: string, opts: RunOptions): Promise<void> {
  const t0 = performance.now();
  const byOp = new Map<string, { ms: number; calls: number }>();
  if (!targets.includes(opts.target)) throw new UsageError(`--target ${opts.target} is not available; the targets are: ${targets.join(', ')}`);
  for (const d of opts.dump ?? []) if (d !== 'hidden') throw new UsageError(`--dump ${d}: the only dump is 'hidden'`);
  const outDir = dirname(opts.out);
  if (!existsSync(outDir) || !statSync(outDir).isDirectory()) throw new UsageError(`--out ${opts.out}: the folder ${outDir} does not exist`);
  const spec = checkOrThrow(file, { set: parseSets(opts.set), model: opts.model });
  const graph = runPipeline(lowerModel(spec, { hiddenStates: opts.dump?.includes('hidden') }));
  const inputs = readInputs(opts.input, graph.inputs.map((i) => i.name), spec.vocab);
  // Refused before a weight is read or a byte allocated: what the run needs against what the target holds.
  const needs = runNeeds(graph, tokenFeeds(inputs).sizes);
  if (opts.target === 'wasm') checkFits(needs, wasmLimit);
  checkFits(needs, opts.target === 'ref' ? referenceLimit(totalmem()) : hostLimit(totalmem()));
  const checkpoint = openCheckpoint(opts.weights);
  const bar = progressBar(opts);
  const onProgress = bar?.onProgress;
  const source = withReadProgress(checkpoint, onProgress);
  let device: string | undefined;
  let outputs: NamedOutput[] = [];
  try {
    // binaryen is large and slow to load: only the wasm target pays for it.
    const profile = opts.profile
      ? (_kernel: string, ops: string[], ms: number) => {
          const key = ops.join('+');
          const e = byOp.get(key) ?? { ms: 0, calls: 0 };
          byOp.set(key, { ms: e.ms + ms, calls: e.calls + 1 });
        }
      : undefined;
    if (opts.profile && opts.target !== 'wasm') throw new UsageError('--profile times compiled kernels: use it with --target wasm');
    if (opts.adapter !== undefined && opts.target !== 'webgpu') throw new UsageError('--adapter picks a WebGPU adapter: use it with --target webgpu');
    const weightDtype = opts.weightDtype ?? 'f32';
    if (weightDtype !== 'f32' && weightDtype !== 'f16') throw new UsageError(`--weight-dtype must be f32 or f16, got '${weightDtype}'`);
    if (weightDtype === 'f16' && opts.target !== 'webgpu') throw new UsageError('--weight-dtype f16 stores the weights as f16 on WebGPU: use it with --target webgpu');
    const precision = cudaPrecision(opts.precision, opts.target);
    const threads = opts.threads === undefined ? availableParallelism() : Number(opts.threads);
    if (!Number.isInteger(threads) || threads < 1 || threads > 64) throw new UsageError(`--threads must be an integer from 1 to 64, got '${opts.threads}'`);
    const ranks = expertParallel(opts);
    const executor = ranks !== undefined ? undefined : opts.target === 'wasm' ? (await import('../compile.ts')).wasmExecutor(graph, { profile, threads, onProgress }) : opts.target === 'ref' ? referenceExecutor(graph) : undefined;
    if (ranks !== undefined) {
      // Expert parallelism: the ranks simulated in lockstep (ref), or one GPU each through NCCL (cuda).
      checkPlacement(spec, ranks);
      const parallel = runPipeline(lowerModel(spec, { hiddenStates: opts.dump?.includes('hidden'), expertParallel: ranks }));
      const ep = await import('../../runtime/expert-parallel.ts');
      let ranksExecutor = ep.referenceRanksExecutor(parallel);
      if (opts.target === 'cuda') {
        const gpus = (await import('../cuda.ts')).cudaRanksExecutor(parallel, ranks, precision, { onProgress });
        device = gpus.device;
        process.stderr.write(`devices: ${device}\n`);
        ranksExecutor = gpus;
      }
      outputs = ep.runExpertParallelModel(graph, parallel, ranks, spec.checkpoint?.tensors ?? [], source, opts.weights, inputs, ranksExecutor);
    } else if (opts.target === 'cuda') {
      const r = (await import('../cuda.ts')).runCuda(graph, spec.checkpoint?.tensors ?? [], source, opts.weights, inputs, precision, { onProgress });
      device = r.device;
      process.stderr.write(`device: ${r.device}\n`);
      outputs = r.outputs;
    } else if (opts.target === 'webgpu') {
      const r = await (await import('../webgpu.ts')).runWebGpu(graph, spec.checkpoint?.tensors ?? [], source, opts.weights, inputs, { adapter: opts.adapter, halfWeights: weightDtype === 'f16', onProgress });
      device = r.adapter;
      process.stderr.write(`adapter: ${r.adapter}\n`);
      outputs = r.outputs;
    } else {
      try {
        outputs = runModel(graph, spec.checkpoint?.tensors ?? [], source, opts.weights, inputs, executor);
      } finally {
        (executor as { close?: () => void } | undefined)?.close?.();
      }
    }
    writeSafetensors(opts.out, outputs.map((o) => ({ name: o.name, dtype: 'F32', shape: o.shape, data: o.data })));
  } finally {
    bar?.end();
    checkpoint.close();
  }
  process.stderr.write(`wrote ${opts.out}\n`);
  if (opts.json) {
    const json = runJson({ model: graph.name, target: opts.target, out: opts.out, device, outputs, ms: performance.now() - t0, profile: opts.profile ? byOp : undefined });
    process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
    return;
  }
  if (opts.profile) {
    const total = [...byOp.values()].reduce((s, e) => s + e.ms, 0);
    const rows = [...byOp.entries()].sort((a, b) => b[1].ms - a[1].ms);
    const w = Math.max(...rows.map(([k]) => k.length), 6);
    process.stdout.write(`${'kernel'.padEnd(w)}  calls        ms      %\n`);
    for (const [k, e] of rows) process.stdout.write(`${k.padEnd(w)}  ${String(e.calls).padStart(5)}  ${e.ms.toFixed(2).padStart(8)}  ${((100 * e.ms) / total).toFixed(1).padStart(5)}\n`);
    process.stdout.write(`${'total'.padEnd(w)}  ${' '.repeat(5)}  ${total.toFixed(2).padStart(8)}\n`);
  }
}
