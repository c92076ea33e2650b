// moec compile --json: what was compiled and written as one JSON object (docs/json.md), the same figures for every
// target: kernels, the memory plan at batch 1 and --seq, parameters, the files written with their sizes.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { numel } from '../../compiler/ir/dims.ts';
import type { Graph } from '../../compiler/ir/types.ts';
import type { KernelProgram } from '../../compiler/kernel/ir.ts';
import { memoryReport, type MemoryPlan } from '../../compiler/kernel/memory-plan.ts';

export interface CompileJson {
  model: string;
  target: 'wasm' | 'wgsl' | 'cuda';
  out: string;
  /** Paths relative to `out`, in the order written. */
  files: { name: string; bytes: number }[];
  kernels: number;
  /** CUDA: the functions the kernels share; null on the other targets. */
  functions: number | null;
  temporaries: number;
  planned_buffers: number;
  seq: number;
  /** Activations at batch 1 and `seq` (inputs, outputs, constants and temporaries): planned, and without reuse. */
  activation_bytes: { planned: number; unplanned: number };
  /** Parameter elements (weights), whatever the dtype they are stored in. */
  parameters: number;
  compile_ms: number;
}

export function compileJson(c: {
  graph: Graph; target: CompileJson['target']; out: string; files: readonly string[];
  program: KernelProgram; plan: MemoryPlan; functions?: number; seq: number; ms: number;
}): CompileJson {
  const r = memoryReport(c.program, c.plan, { batch: 1, seq: c.seq, dec_seq: c.seq });
  return {
    model: c.graph.name,
    target: c.target,
    out: c.out,
    files: c.files.map((name) => ({ name, bytes: statSync(join(c.out, name)).size })),
    kernels: c.program.kernels.length,
    functions: c.functions ?? null,
    temporaries: r.buffers,
    planned_buffers: r.slots,
    seq: c.seq,
    activation_bytes: { planned: r.plannedBytes, unplanned: r.unplannedBytes },
    parameters: c.graph.params.reduce((s, p) => s + Number(numel(p.type.shape)), 0),
    compile_ms: Number(c.ms.toFixed(1)),
  };
}
