// moec run FILE --weights PATH --input inputs.json --out OUT.safetensors: runs a model on the reference executor.
import { existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { checkOrThrow } from '../../compiler/api.ts';
import { lowerModel } from '../../compiler/lower/model.ts';
import { runPipeline } from '../../compiler/passes/pipeline.ts';
import { readInputs } from '../../runtime/inputs.ts';
import { referenceExecutor, runModel } from '../../runtime/run-model.ts';
import { openCheckpoint, writeSafetensors } from '../../runtime/safetensors/index.ts';
import { parseSets, UsageError } from '../output.ts';

export interface RunOptions {
  set?: string[];
  model?: string;
  weights: string;
  input: string;
  out: string;
  target: string;
  dump?: string[];
}

const targets = ['ref', 'wasm'];

export async function runCommand(file: string, opts: RunOptions): Promise<void> {
  if (!targets.includes(opts.target)) throw new UsageError(`--target ${opts.target} is not available; the targets are: ${targets.join(', ')}`);
  for (const d of opts.dump ?? []) if (d !== 'hidden') throw new UsageError(`--dump ${d}: the only dump is 'hidden'`);
  const outDir = dirname(opts.out);
  if (!existsSync(outDir) || !statSync(outDir).isDirectory()) throw new UsageError(`--out ${opts.out}: the folder ${outDir} does not exist`);
  const spec = checkOrThrow(file, { set: parseSets(opts.set), model: opts.model });
  const graph = runPipeline(lowerModel(spec, { hiddenStates: opts.dump?.includes('hidden') }));
  const inputs = readInputs(opts.input, graph.inputs.map((i) => i.name), spec.vocab);
  const checkpoint = openCheckpoint(opts.weights);
  try {
    // binaryen is large and slow to load: only the wasm target pays for it.
    const executor = opts.target === 'wasm' ? (await import('../compile.ts')).wasmExecutor(graph) : referenceExecutor(graph);
    const outputs = runModel(graph, spec.checkpoint?.tensors ?? [], checkpoint, opts.weights, inputs, executor);
    writeSafetensors(opts.out, outputs.map((o) => ({ name: o.name, dtype: 'F32', shape: o.shape, data: o.data })));
  } finally {
    checkpoint.close();
  }
  process.stderr.write(`wrote ${opts.out}\n`);
}
