// moec compile FILE --target wasm -o DIR: the compiled kernels, a manifest and a TypeScript module to run them.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkOrThrow } from '../../compiler/api.ts';
import { numel } from '../../compiler/ir/dims.ts';
import { memoryReport, planMemory } from '../../compiler/kernel/memory-plan.ts';
import { lowerModel } from '../../compiler/lower/model.ts';
import { runPipeline } from '../../compiler/passes/pipeline.ts';
import { runtimeModule } from '../../codegen/runtime-module.ts';
import { planToJson, type Manifest } from '../../runtime/wasm/manifest.ts';
import { compileWasm } from '../compile.ts';
import type { Graph } from '../../compiler/ir/types.ts';
import type { ModelSpec } from '../../compiler/spec/types.ts';
import { scheduleGraph } from '../../compiler/kernel/schedule.ts';
import { renderProgram as renderWgsl, type WgslPass } from '../../targets/wgsl/render.ts';
import { shaderFiles, type ShaderFile, type WgslManifest } from '../../runtime/webgpu/manifest.ts';
import { parseSets, printJson, UsageError } from '../output.ts';
import { outputFolderProblem, writeFolderAtomic } from '../../runtime/atomic.ts';
import { compileCuda } from './compile-cuda.ts';
import { compileGpujs } from './compile-gpujs.ts';
import { cudaArch, cudaPrecision } from './precision.ts';
import { compileJson } from './compile-json.ts';
import { progressBar } from '../progress.ts';

interface CompileOptions {
  set?: string[];
  model?: string;
  target: string;
  out: string;
  report?: boolean;
  seq: string;
  precision?: string;
  arch?: string;
  json?: boolean;
  quiet?: boolean;
}

export function compileCommand(file: string, opts: CompileOptions): void {
  if (!['wasm', 'wgsl', 'cuda', 'gpujs'].includes(opts.target)) throw new UsageError(`--target ${opts.target} is not available yet; the targets are: wasm, wgsl, cuda, gpujs`);
  const seq = Number(opts.seq);
  if (!Number.isInteger(seq) || seq < 1) throw new UsageError(`--seq must be a positive integer, got '${opts.seq}'`);
  const precision = cudaPrecision(opts.precision, opts.target);
  const arch = cudaArch(opts.arch, opts.target);
  const outProblem = outputFolderProblem(opts.out);
  if (outProblem) throw new UsageError(`-o ${opts.out}: ${outProblem}`);
  const t0 = performance.now();
  const spec = checkOrThrow(file, { set: parseSets(opts.set), model: opts.model });
  const graph = runPipeline(lowerModel(spec));
  if (opts.target === 'wgsl') return compileWgsl(file, graph, spec, opts, t0);
  if (opts.target === 'cuda') return compileCuda(file, graph, spec, { ...opts, precision, arch }, t0);
  if (opts.target === 'gpujs') return compileGpujs(file, graph, spec, opts);
  const bar = progressBar(opts);
  let compiled;
  try {
    compiled = compileWasm(graph, { onProgress: bar?.onProgress });
  } finally {
    bar?.end();
  }
  const ms = performance.now() - t0;
  const manifest: Manifest = {
    format: 'moec-compiled/1', model: graph.name, target: 'wasm', sizes: compiled.sizes, vocab: spec.vocab,
    program: compiled.program, plan: planToJson(compiled.plan),
    binaries: { simd: 'model.wasm', relaxed: 'model-relaxed.wasm' },
    params: graph.params.map((p) => ({ name: p.name, shape: p.type.shape.map(Number) })),
    checkpoint: (spec.checkpoint?.tensors ?? []).map(({ from, to, chunk }) => (chunk ? { from, to, chunk } : { from, to })),
  };
  writeFolderAtomic(opts.out, (dir) => {
    writeFileSync(join(dir, 'model.wasm'), compiled.binaries.simd);
    writeFileSync(join(dir, 'model-relaxed.wasm'), compiled.binaries.relaxed);
    writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(manifest)}\n`);
    writeFileSync(join(dir, 'model.ts'), runtimeModule({
      model: graph.name, source: file, target: 'wasm',
      inputs: graph.inputs.map((i) => i.name), outputs: graph.outputs.map((o) => o.name),
    }));
  });
  process.stderr.write(`wrote ${join(opts.out, 'model.wasm')} (${compiled.binaries.simd.length} bytes), model-relaxed.wasm (FMA), manifest.json, model.ts\n`);
  if (opts.json) {
    const files = ['model.wasm', 'model-relaxed.wasm', 'manifest.json', 'model.ts'];
    return printJson(compileJson({ graph, target: 'wasm', out: opts.out, files, program: compiled.program, plan: compiled.plan, seq, ms }));
  }
  if (opts.report) {
    const r = memoryReport(compiled.program, compiled.plan, { batch: 1, seq, dec_seq: seq });
    const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
    const params = graph.params.reduce((s, p) => s + Number(numel(p.type.shape)) * 4, 0);
    process.stdout.write([
      `kernels                    ${compiled.program.kernels.length}`,
      `temporaries                ${r.buffers} in ${r.slots} planned buffers`,
      `activations (batch 1, seq ${seq})  ${mib(r.plannedBytes)} peak planned, ${mib(r.unplannedBytes)} without reuse`,
      `parameters                 ${mib(params)}`,
      `compile time               ${ms.toFixed(0)} ms`,
      '',
    ].join('\n'));
  }
}

const shaderFile = (file: string, p: WgslPass): ShaderFile => ({ file, grid: p.grid, ...(p.dispatch ? { dispatch: p.dispatch } : {}), ...(p.when ? { when: p.when } : {}) });

/** --target wgsl: a shader per kernel pass in wgsl/, the manifest, and the runtime module. */
function compileWgsl(file: string, graph: Graph, spec: ModelSpec, opts: CompileOptions, t0: number): void {
  const program = scheduleGraph(graph);
  const plan = planMemory(program);
  const wgsl = renderWgsl(program);
  const ms = performance.now() - t0;
  const manifest: WgslManifest = {
    format: 'moec-compiled/1', model: graph.name, target: 'wgsl', sizes: wgsl.sizes, vocab: spec.vocab,
    program, plan: planToJson(plan),
    shaders: wgsl.kernels.map((k) => ({
      kernel: k.name, ...shaderFile(`wgsl/${k.name}.wgsl`, k),
      ...(k.next ? { next: k.next.map((n, j) => shaderFile(`wgsl/${k.name}.${j + 1}.wgsl`, n)) } : {}),
    })),
    params: graph.params.map((p) => ({ name: p.name, shape: p.type.shape.map(Number) })),
    checkpoint: (spec.checkpoint?.tensors ?? []).map(({ from, to, chunk }) => (chunk ? { from, to, chunk } : { from, to })),
  };
  writeFolderAtomic(opts.out, (dir) => {
    mkdirSync(join(dir, 'wgsl'));
    for (const k of wgsl.kernels) {
      writeFileSync(join(dir, 'wgsl', `${k.name}.wgsl`), k.code);
      k.next?.forEach((n, j) => writeFileSync(join(dir, 'wgsl', `${k.name}.${j + 1}.wgsl`), n.code));
    }
    writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(manifest)}\n`);
    writeFileSync(join(dir, 'model.ts'), runtimeModule({
      model: graph.name, source: file, target: 'wgsl', async: true,
      inputs: graph.inputs.map((i) => i.name), outputs: graph.outputs.map((o) => o.name),
    }));
  });
  process.stderr.write(`wrote ${wgsl.kernels.length} shaders in ${join(opts.out, 'wgsl')}, manifest.json, model.ts\n`);
  if (opts.json) {
    const files = [...shaderFiles(manifest), 'manifest.json', 'model.ts'];
    return printJson(compileJson({ graph, target: 'wgsl', out: opts.out, files, program, plan, seq: Number(opts.seq), ms }));
  }
  if (opts.report) {
    const seq = Number(opts.seq);
    const r = memoryReport(program, plan, { batch: 1, seq, dec_seq: seq });
    const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
    process.stdout.write([
      `kernels                    ${program.kernels.length}`,
      `temporaries                ${r.buffers} in ${r.slots} planned buffers`,
      `activations (batch 1, seq ${seq})  ${mib(r.plannedBytes)} peak planned, ${mib(r.unplannedBytes)} without reuse`,
      `compile time               ${ms.toFixed(0)} ms`,
      '',
    ].join('\n'));
  }
}
