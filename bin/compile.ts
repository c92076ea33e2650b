// From a checked model to a compiled program for a target: the graph IR through its passes, scheduled into kernels,
// memory-planned, and rendered.
import type { Graph } from '../compiler/ir/types.ts';
import type { KernelProgram } from '../compiler/kernel/ir.ts';
import { planMemory, type MemoryPlan } from '../compiler/kernel/memory-plan.ts';
import { scheduleGraph } from '../compiler/kernel/schedule.ts';
import { renderProgram } from '../targets/wasm/render.ts';
import type { Executor } from '../runtime/run-model.ts';
import { WasmProgram, type WasmRun } from '../runtime/wasm/run.ts';

export interface CompiledWasm {
  program: KernelProgram;
  plan: MemoryPlan;
  binary: Uint8Array;
  sizes: string[];
}

export function compileWasm(graph: Graph): CompiledWasm {
  const program = scheduleGraph(graph);
  const plan = planMemory(program);
  const { binary, sizes } = renderProgram(program);
  return { program, plan, binary, sizes };
}

export function wasmExecutor(graph: Graph, profile?: WasmRun['profile']): Executor {
  const c = compileWasm(graph);
  const wasm = new WasmProgram(c.program, c.plan, c.binary, c.sizes);
  return (weights, inputs, sizes) => wasm.run({ params: (n) => weights.get(n)!.data, inputs, sizes, profile });
}
