// From a checked model to a compiled program for a target: the graph IR through its passes, scheduled into kernels,
// tensorized for the target's matmul, memory-planned, and rendered.
import type { Graph } from '../compiler/ir/types.ts';
import type { KernelProgram } from '../compiler/kernel/ir.ts';
import { planMemory, type MemoryPlan } from '../compiler/kernel/memory-plan.ts';
import { scheduleGraph } from '../compiler/kernel/schedule.ts';
import { gemmConfig, gemmScratch, panelWidth, type GemmConfig } from '../targets/wasm/gemm.ts';
import { renderProgram } from '../targets/wasm/render.ts';
import { tensorize } from '../targets/wasm/tensorize.ts';
import { prefixed, type OnProgress } from '../runtime/progress.ts';
import type { Executor } from '../runtime/run-model.ts';
import { relaxedSimdSupported } from '../runtime/wasm/features.ts';
import { WasmProgram, type WasmRun } from '../runtime/wasm/run.ts';

export interface CompiledWasm {
  program: KernelProgram;
  plan: MemoryPlan;
  /** One binary per instruction set: plain SIMD128, and relaxed SIMD (FMA) where the engine has it. */
  binaries: { simd: Uint8Array; relaxed: Uint8Array };
  sizes: string[];
}

export function compileWasm(graph: Graph, options: { onProgress?: OnProgress } = {}): CompiledWasm {
  const simd = gemmConfig(false);
  const relaxed = gemmConfig(true);
  const program = tensorize(scheduleGraph(graph), { nr: panelWidth(simd), gemmScratch });
  const plan = planMemory(program);
  const render = (gemm: GemmConfig, name: string) => renderProgram(program, { gemm, shared: true, onProgress: prefixed(options.onProgress, `wasm ${name}: `) });
  const a = render(simd, 'simd');
  return { program, plan, binaries: { simd: a.binary, relaxed: render(relaxed, 'relaxed simd').binary }, sizes: a.sizes };
}

export interface WasmExecutorOptions {
  threads?: number;
  profile?: WasmRun['profile'];
  /** Debugging: see WasmRun.inspect and WasmOptions.poison. */
  inspect?: WasmRun['inspect'];
  poison?: boolean;
  onProgress?: OnProgress;
}

export function wasmExecutor(graph: Graph, options: WasmExecutorOptions = {}): Executor & { close(): void } {
  const c = compileWasm(graph, { onProgress: options.onProgress });
  const binary = relaxedSimdSupported() ? c.binaries.relaxed : c.binaries.simd;
  const wasm = new WasmProgram(c.program, c.plan, binary, c.sizes, { threads: options.threads, poison: options.poison });
  const run: Executor = (weights, inputs, sizes) => wasm.run({ params: (n) => weights.get(n)!.data, inputs, sizes, profile: options.profile, inspect: options.inspect });
  return Object.assign(run, { close: () => wasm.close() });
}
