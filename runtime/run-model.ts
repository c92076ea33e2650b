// Runs a graph on the reference executor with weights from a checkpoint and token inputs; returns named float32
// outputs in the shapes Hugging Face uses.
import type { Graph } from '../compiler/ir/types.ts';
import type { TokenInput } from './inputs.ts';
import { execute, type Tensor } from './reference/index.ts';
import type { TensorSource } from './safetensors/index.ts';
import { bindWeights, type NameMapping } from './weights/bind.ts';

export interface NamedOutput {
  name: string;
  shape: number[];
  data: Float32Array;
}

export function runModel(graph: Graph, mappings: readonly NameMapping[], checkpoint: TensorSource, weightsPath: string, inputs: Map<string, TokenInput>): NamedOutput[] {
  const weights = bindWeights(graph.params, mappings, checkpoint, weightsPath);
  const first = [...inputs.values()][0]!;
  const sizes: Record<string, number> = { batch: first.batch };
  const feeds: Record<string, Tensor> = {};
  for (const i of graph.inputs) {
    const t = inputs.get(i.name)!;
    sizes[i.name === 'decoder_input_ids' ? 'dec_seq' : 'seq'] = t.seq;
    feeds[i.name] = { dtype: 'i32', shape: [t.batch, t.seq], data: t.ids };
  }
  const { outputs } = execute(graph, (name) => {
    const w = weights.get(name)!;
    return { dtype: 'f32', shape: w.shape, data: w.data };
  }, feeds, sizes);
  return graph.outputs.map((o) => {
    const t = outputs[o.name]!;
    return { name: o.name, shape: t.shape, data: t.data instanceof Float32Array ? t.data : Float32Array.from(t.data) };
  });
}
