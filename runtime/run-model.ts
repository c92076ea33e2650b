// Runs a model with weights from a checkpoint and token inputs on an executor (the reference interpreter or a
// compiled program); returns named float32 outputs in the shapes Hugging Face uses.
import { evalDim } from '../compiler/ir/dims.ts';
import type { Graph } from '../compiler/ir/types.ts';
import { tokenFeeds, type TokenInput } from './inputs.ts';
import { execute, type Tensor } from './reference/index.ts';
import type { TensorSource } from './safetensors/index.ts';
import { bindWeights, type BoundParam, type NameMapping } from './weights/bind.ts';

export interface NamedOutput {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** Something that computes a graph's outputs (by name, flat) from bound weights, token ids and sizes. */
export type Executor = (weights: Map<string, BoundParam>, inputs: Record<string, Int32Array>, sizes: Record<string, number>) => Record<string, Float32Array | Int32Array>;

/** Bound weights as the reference executor's parameter tensors. */
export const paramTensors = (weights: ReadonlyMap<string, BoundParam>) => (name: string): Tensor => ({ dtype: 'f32', shape: weights.get(name)!.shape, data: weights.get(name)!.data });

export function referenceExecutor(graph: Graph): Executor {
  return (weights, inputs, sizes) => {
    const feeds = Object.fromEntries(graph.inputs.map((i) => [i.name, { dtype: 'i32' as const, shape: i.type.shape.map((d) => evalDim(d, sizes)), data: inputs[i.name]! }]));
    const { outputs } = execute(graph, paramTensors(weights), feeds, sizes);
    return Object.fromEntries(Object.entries(outputs).map(([k, t]) => [k, t.data]));
  };
}

/** Binds the weights and turns token inputs into the ids and sizes an executor takes. */
export function prepareRun(graph: Graph, mappings: readonly NameMapping[], checkpoint: TensorSource, weightsPath: string, inputs: Map<string, TokenInput>) {
  const weights = bindWeights(graph.params, mappings, checkpoint, weightsPath);
  return { weights, ...tokenFeeds(inputs) };
}

/** An executor's flat outputs as named tensors in the shapes Hugging Face uses. */
export function namedOutputs(graph: Graph, outputs: Record<string, Float32Array | Int32Array>, sizes: Record<string, number>): NamedOutput[] {
  return graph.outputs.map((o) => {
    const data = outputs[o.name]!;
    const shape = graph.nodes.flatMap((n) => n.outputs.map((v, k) => [v, n.types?.[k]] as const)).find(([v]) => v === o.value)?.[1]?.shape ?? [];
    return { name: o.name, shape: shape.map((d) => evalDim(d, sizes)), data: data instanceof Float32Array ? data : Float32Array.from(data) };
  });
}

export function runModel(
  graph: Graph, mappings: readonly NameMapping[], checkpoint: TensorSource, weightsPath: string, inputs: Map<string, TokenInput>,
  executor: Executor = referenceExecutor(graph),
): NamedOutput[] {
  const { weights, ids, sizes } = prepareRun(graph, mappings, checkpoint, weightsPath, inputs);
  return namedOutputs(graph, executor(weights, ids, sizes), sizes);
}
