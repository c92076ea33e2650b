// moec compile FILE --target cuda -o DIR: model.cu with every kernel's function, the manifest (each kernel's function
// and launch, buffers, memory plan, sizes) and the runtime module; the same steps as --target wgsl.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Graph } from '../../compiler/ir/types.ts';
import { memoryReport, planMemory } from '../../compiler/kernel/memory-plan.ts';
import type { ModelSpec } from '../../compiler/spec/types.ts';
import { runtimeModule } from '../../codegen/runtime-module.ts';
import { cudaCompiled, renderProgram, type CudaArch, type Precision } from '../../targets/cuda/render.ts';
import { cudaKernelProgram } from '../../targets/cuda/program.ts';
import type { CudaManifest } from '../../runtime/cuda/manifest.ts';
import { planToJson } from '../../runtime/wasm/manifest.ts';
import { printJson } from '../output.ts';
import { compileJson } from './compile-json.ts';
import { writeFolderAtomic } from '../../runtime/atomic.ts';

export function compileCuda(file: string, graph: Graph, spec: ModelSpec, opts: { out: string; report?: boolean; json?: boolean; seq: string; precision?: Precision; arch?: CudaArch }, t0: number): void {
  const program = cudaKernelProgram(graph);
  const plan = planMemory(program);
  const cuda = renderProgram(program, { precision: opts.precision, arch: opts.arch });
  const ms = performance.now() - t0;
  const { precision, arch, bf16, launches } = cudaCompiled(cuda);
  const manifest: CudaManifest = {
    format: 'moec-compiled/1', model: graph.name, target: 'cuda', sizes: cuda.sizes, vocab: spec.vocab,
    program, plan: planToJson(plan), source: 'model.cu',
    precision, arch, ...(precision !== 'f32' ? { bf16 } : {}), launches,
    params: graph.params.map((p) => ({ name: p.name, shape: p.type.shape.map(Number) })),
    checkpoint: (spec.checkpoint?.tensors ?? []).map(({ from, to, chunk }) => (chunk ? { from, to, chunk } : { from, to })),
  };
  writeFolderAtomic(opts.out, (dir) => {
    writeFileSync(join(dir, 'model.cu'), cuda.source);
    writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(manifest)}\n`);
    writeFileSync(join(dir, 'model.ts'), runtimeModule({
      model: graph.name, source: file, target: 'cuda', async: true,
      inputs: graph.inputs.map((i) => i.name), outputs: graph.outputs.map((o) => o.name),
    }));
  });
  process.stderr.write(`wrote ${join(opts.out, 'model.cu')} (${program.kernels.length} kernels in ${cuda.functions.length} functions${precision !== 'f32' ? `, ${precision} weights` : ''}, ${arch}), manifest.json, model.ts\n`);
  if (opts.json) {
    const files = ['model.cu', 'manifest.json', 'model.ts'];
    return printJson(compileJson({ graph, target: 'cuda', out: opts.out, files, program, plan, functions: cuda.functions.length, seq: Number(opts.seq), ms }));
  }
  if (opts.report) {
    const seq = Number(opts.seq);
    const r = memoryReport(program, plan, { batch: 1, seq, dec_seq: seq });
    const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
    process.stdout.write([
      `kernels                    ${program.kernels.length} (${cuda.functions.length} functions)`,
      `temporaries                ${r.buffers} in ${r.slots} planned buffers`,
      `activations (batch 1, seq ${seq})  ${mib(r.plannedBytes)} peak planned, ${mib(r.unplannedBytes)} without reuse`,
      `compile time               ${ms.toFixed(0)} ms`,
      '',
    ].join('\n'));
  }
}
