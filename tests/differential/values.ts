// Every graph value an executor computed, by reference (`%h3`): the reference executor keeps them all; the compiled
// targets report each buffer a kernel wrote (their `inspect` debug hook), mapped back to the graph value it holds, so
// only the values that survive the targets' own fusion are there (reshapes are views: no kernel writes them).
import type { Graph } from '../../compiler/ir/types.ts';
import type { ProgramBuffer } from '../../compiler/kernel/ir.ts';
import { planMemory } from '../../compiler/kernel/memory-plan.ts';
import { scheduleGraph } from '../../compiler/kernel/schedule.ts';
import { execute } from '../../runtime/reference/index.ts';
import type { GpuDevice } from '../../runtime/webgpu/device.ts';
import { WebGpuProgram } from '../../runtime/webgpu/run.ts';
import { renderProgram } from '../../targets/wgsl/render.ts';
import { checkMemoryPlan } from '../../compiler/kernel/check-plan.ts';
import type { KernelProgram } from '../../compiler/kernel/ir.ts';
import type { MemoryPlan } from '../../compiler/kernel/memory-plan.ts';
import { relaxedSimdSupported } from '../../runtime/wasm/features.ts';
import { WasmProgram } from '../../runtime/wasm/run.ts';
import { gemmConfig, gemmScratch, panelWidth } from '../../targets/wasm/gemm.ts';
import { renderProgram as renderWasm } from '../../targets/wasm/render.ts';
import { tensorize } from '../../targets/wasm/tensorize.ts';
import type { ModelRun } from './build.ts';

export type Storage = Float32Array | Int32Array;
export type Values = Map<string, Storage>;

export function referenceValues(graph: Graph, run: ModelRun): Values {
  const feeds = Object.fromEntries(graph.inputs.map((i) => [i.name, { dtype: 'i32' as const, shape: [run.sizes.batch!, run.sizes.seq!], data: run.ids[i.name]! }]));
  const { values } = execute(graph, (n) => ({ dtype: 'f32', shape: run.weights.get(n)!.shape, data: run.weights.get(n)!.data }), feeds, run.sizes, { keep: () => true });
  return new Map([...values!].map(([k, t]) => [k, t.data]));
}

const collector = () => {
  const values: Values = new Map();
  return { values, inspect: (b: ProgramBuffer, data: Storage) => b.source.startsWith('%') && values.set(b.source, data) };
};

export interface WasmBuild {
  program: KernelProgram;
  plan: MemoryPlan;
  binary: Uint8Array;
  sizes: string[];
}

/** As bin/compile.ts compiles for wasm, but one binary only (the one this engine runs): half the rendering time. */
export function compileWasmOnce(graph: Graph): WasmBuild {
  const program = tensorize(scheduleGraph(graph), { nr: panelWidth(gemmConfig(false)), gemmScratch });
  const r = renderWasm(program, { gemm: gemmConfig(relaxedSimdSupported()), shared: true });
  return { program, plan: planMemory(program), binary: r.binary, sizes: r.sizes };
}

/** The static check of the build's memory plan (compiler/kernel/check-plan.ts). */
export const planProblems = (w: WasmBuild) => checkMemoryPlan(w.program, w.plan);

/** The wasm target's values and outputs; `poison` runs it with the memory plan's freed buffers filled with NaN. */
export function wasmValues(w: WasmBuild, run: ModelRun, options: { poison?: boolean } = {}): { values: Values; outputs: Record<string, Storage> } {
  const { values, inspect } = collector();
  const exec = new WasmProgram(w.program, w.plan, w.binary, w.sizes, { poison: options.poison });
  try {
    return { values, outputs: exec.run({ params: (n) => run.weights.get(n)!.data, inputs: run.ids, sizes: run.sizes, inspect }) };
  } finally {
    exec.close();
  }
}

export async function webgpuValues(gpu: GpuDevice, graph: Graph, run: ModelRun): Promise<{ values: Values; outputs: Record<string, Storage> }> {
  const program = scheduleGraph(graph);
  const p = await WebGpuProgram.create(gpu, program, planMemory(program), renderProgram(program, { features: gpu.shaderFeatures }));
  const { values, inspect } = collector();
  try {
    return { values, outputs: await p.run({ params: (n) => run.weights.get(n)!.data, inputs: run.ids, sizes: run.sizes, inspect }) };
  } finally {
    p.destroy();
  }
}
