// One random model through every check: op by op on the reference executor against wasm (and WebGPU when given),
// fusion on versus off, and the memory plan (statically, and by a run with freed buffers poisoned with NaN). Returns
// what failed, each message ending with the model's .moe text and its run, so a shrunk failure reads as a repro.
import type { RunData } from './arbitrary.ts';
import { buildGraph, modelRun } from './build.ts';
import { compareValues, type Comparison } from './compare.ts';
import { renderSpec } from './render.ts';
import type { ModelData } from './spec-data.ts';
import type { GpuDevice } from '../../runtime/webgpu/device.ts';
import { compileWasmOnce, planProblems, referenceValues, wasmValues, webgpuValues, type Storage, type Values } from './values.ts';

export interface ModelReport {
  failures: string[];
  /** Values compared op by op, per target. */
  compared: Record<string, number>;
  ties: string[];
}

const asValues = (o: Record<string, Storage>): Values => new Map(Object.entries(o));

/** Outputs by name: the same names, integers equal, floats within `tolerance`. */
function outputsDiffer(want: Record<string, Storage>, got: Record<string, Storage>, tolerance: number): string | undefined {
  const names = Object.keys(want).sort();
  if (names.join() !== Object.keys(got).sort().join()) return `outputs ${Object.keys(got).sort().join(', ')} instead of ${names.join(', ')}`;
  const g = { nodes: names.map((n) => ({ op: 'output', inputs: [], outputs: [n], attrs: {} })), inputs: [], outputs: [], params: [], name: 'outputs' };
  return compareValues(g as never, asValues(want), asValues(got), tolerance).divergence?.message;
}

export async function checkModel(model: ModelData, r: RunData, options: { gpu?: GpuDevice; fusion?: boolean } = {}): Promise<ModelReport> {
  const text = renderSpec(model);
  const report: ModelReport = { failures: [], compared: {}, ties: [] };
  const fail = (what: string, message: string) => report.failures.push(`${what}: ${message}\n--- the model (run ${JSON.stringify(r)}) ---\n${text}`);
  const { graph, vocab } = buildGraph(text);
  const run = modelRun(graph, vocab, r);
  let want: Values;
  try {
    want = referenceValues(graph, run);
  } catch (e) {
    fail('the reference executor failed', (e as Error).message);
    return report;
  }
  const logits = [...want.values()].at(-1);
  const outputs = Object.fromEntries(graph.outputs.map((o) => [o.name, want.get(o.value)!]));
  if (!Object.values(outputs).every((d) => d && d.every(Number.isFinite))) fail('the reference outputs', `not finite (${logits?.length} logits)`);

  const judge = (target: string, c: Comparison) => {
    report.compared[target] = c.compared;
    if (c.tie) report.ties.push(`${target}: ${c.tie}`);
    if (c.divergence) fail(`${target} diverges from the reference at ${c.divergence.value} (${c.divergence.op}${c.divergence.loc ? ` at ${c.divergence.loc}` : ''})`, c.divergence.message);
    return !c.tie;
  };
  const w = compileWasmOnce(graph);
  const wasm = wasmValues(w, run);
  if (judge('wasm', compareValues(graph, want, wasm.values))) {
    const bad = outputsDiffer(outputs, wasm.outputs, 1e-4);
    if (bad) fail('wasm outputs', bad);
  }
  // The memory plan: no two live buffers share storage (static), and freed buffers poisoned change nothing.
  for (const p of planProblems(w)) fail('the memory plan', p);
  const poisoned = wasmValues(w, run, { poison: true }).outputs;
  const changed = Object.keys(wasm.outputs).filter((k) => !wasm.outputs[k]!.every((x, i) => Object.is(x, poisoned[k]![i])));
  if (changed.length) fail('a run with freed buffers poisoned (NaN)', `changes ${changed.join(', ')}: ${outputsDiffer(wasm.outputs, poisoned, 0) ?? ''}`);
  if (options.gpu) {
    const gpu = await webgpuValues(options.gpu, graph, run);
    if (judge('webgpu', compareValues(graph, want, gpu.values))) {
      const bad = outputsDiffer(outputs, gpu.outputs, 1e-4);
      if (bad) fail('webgpu outputs', bad);
    }
  }
  if (options.fusion !== false && report.ties.length === 0) {
    // Fusion off: the unfused graph on the reference executor and on wasm gives the fused graph's outputs.
    const plain = buildGraph(text, { fusion: false }).graph;
    const ref = referenceValues(plain, run);
    const plainOutputs = Object.fromEntries(plain.outputs.map((o) => [o.name, ref.get(o.value)!]));
    const bad = outputsDiffer(outputs, plainOutputs, 1e-5);
    if (bad) fail('fusion off on the reference executor', bad);
    const plainWasm = wasmValues(compileWasmOnce(plain), run);
    const c = compareValues(plain, ref, plainWasm.values);
    if (!c.tie) {
      judge('wasm without fusion', c);
      const bad2 = outputsDiffer(outputs, plainWasm.outputs, 1e-4);
      if (bad2) fail('fusion off on wasm', bad2);
    }
  }
  return report;
}
