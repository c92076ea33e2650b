// The reference executor: interprets the graph IR node by node in float32 on the CPU. It is the oracle every
// compiled target is checked against: simple, and checked against the IR's own types as it goes.
import { evalDim } from '../../compiler/ir/dims.ts';
import type { Graph } from '../../compiler/ir/types.ts';
import { attentionKernels } from './kernels/attention.ts';
import { elementwiseKernels } from './kernels/elementwise.ts';
import { lossKernels } from './kernels/losses.ts';
import { matmulKernels } from './kernels/matmul.ts';
import { normKernels } from './kernels/norm.ts';
import { reduceKernels } from './kernels/reduce.ts';
import { routingKernels } from './kernels/routing.ts';
import { shapeKernels } from './kernels/shape.ts';
import type { Kernel, Tensor } from './tensor.ts';

export const kernels: Record<string, Kernel> = {
  ...elementwiseKernels, ...reduceKernels, ...normKernels, ...shapeKernels, ...matmulKernels,
  ...attentionKernels, ...routingKernels, ...lossKernels,
};

export interface ExecuteOptions {
  /** Values to keep (and return) besides the outputs, e.g. for op-by-op comparison. */
  keep?: (value: string) => boolean;
}

export class ExecutionError extends Error {}

export function execute(
  graph: Graph, params: (name: string) => Tensor, inputs: Record<string, Tensor>, sizes: Record<string, number>, options: ExecuteOptions = {},
): { outputs: Record<string, Tensor>; values: Map<string, Tensor> } {
  const values = new Map<string, Tensor>();
  for (const i of graph.inputs) {
    const t = inputs[i.name];
    if (!t) throw new ExecutionError(`missing input '${i.name}'`);
    values.set(`%${i.name}`, t);
  }
  // Free each value after its last use so memory stays bounded by the live set.
  const lastUse = new Map<string, number>();
  graph.nodes.forEach((n, i) => n.inputs.forEach((r) => lastUse.set(r, i)));
  const keepAlways = new Set(graph.outputs.map((o) => o.value));

  graph.nodes.forEach((n, idx) => {
    const kernel = kernels[n.op];
    if (!kernel) throw new ExecutionError(`node ${idx} (${n.op}): the reference executor has no kernel for '${n.op}'`);
    const ins = n.inputs.map((r) => {
      const v = r.startsWith('@') ? params(r.slice(1)) : values.get(r);
      if (!v) throw new ExecutionError(`node ${idx} (${n.op}): operand ${r} has no value`);
      return v;
    });
    const outShapes = (n.types ?? []).map((t) => t.shape.map((d) => evalDim(d, sizes)));
    const results = kernel(ins, n.attrs, { sizes, outShapes });
    results.forEach((t, k) => {
      const want = outShapes[k];
      if (want && (want.length !== t.shape.length || want.some((d, j) => d !== t.shape[j]))) {
        throw new ExecutionError(`node ${idx} (${n.outputs[k]} = ${n.op}${n.loc ? ` at ${n.loc}` : ''}): computed shape [${t.shape.join(', ')}] but the IR says [${want.join(', ')}]`);
      }
      values.set(n.outputs[k]!, t);
    });
    for (const r of n.inputs) {
      if (lastUse.get(r) === idx && !keepAlways.has(r) && !options.keep?.(r) && !r.startsWith('@')) values.delete(r);
    }
  });
  const outputs: Record<string, Tensor> = {};
  for (const o of graph.outputs) outputs[o.name] = values.get(o.value)!;
  return { outputs, values };
}
