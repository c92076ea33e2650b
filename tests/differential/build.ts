// A random model from its .moe text to the graph the executors run, with fusion on or off, and its inputs.
import { checkOrThrow } from '../../compiler/api.ts';
import type { Graph } from '../../compiler/ir/types.ts';
import { mulberry32 } from '../../compiler/ir/hash.ts';
import { lowerModel } from '../../compiler/lower/model.ts';
import { runPipeline } from '../../compiler/passes/pipeline.ts';
import { randomWeights } from '../../runtime/weights/random.ts';
import type { BoundParam } from '../../runtime/weights/bind.ts';
import { writeSpec } from '../helpers/spec.ts';
import type { RunData } from './arbitrary.ts';

export const fusionPasses = ['fuse-gated-ffn', 'fuse-epilogues', 'fuse-router', 'fuse-attention', 'fuse-elementwise'];

let files = 0;
export function buildGraph(text: string, options: { fusion?: boolean } = {}): { graph: Graph; vocab: number } {
  const spec = checkOrThrow(writeSpec(`differential-${files++}.moe`, text));
  const graph = runPipeline(lowerModel(spec), { disable: options.fusion === false ? fusionPasses : [] });
  return { graph, vocab: spec.vocab };
}

export interface ModelRun {
  weights: Map<string, BoundParam>;
  ids: Record<string, Int32Array>;
  sizes: Record<string, number>;
}

/** Seeded weights (std 0.3, norms near one) and token ids for every id input of the graph. */
export function modelRun(graph: Graph, vocab: number, r: RunData): ModelRun {
  const rand = mulberry32(r.idSeed);
  const ids = Object.fromEntries(graph.inputs.map((i) => [i.name, Int32Array.from({ length: r.batch * r.seq }, () => Math.floor(rand() * vocab))]));
  return { weights: randomWeights(graph.params, r.weightSeed, 0.3), ids, sizes: { batch: r.batch, seq: r.seq, dec_seq: r.seq } };
}
