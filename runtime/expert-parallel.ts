// A model run under expert parallelism: the weights bound once to the single-device graph, each rank given its
// consecutive share of the batch and its slice of the experts (runtime/weights/shard.ts), the ranks run by an
// executor (the reference in lockstep, or GPUs through NCCL), and the ranks' outputs joined back: batch-major tensors
// concatenated in rank order, the losses (one scalar a rank, over its own tokens) averaged, as data-parallel
// training averages them.
import type { Graph } from '../compiler/ir/types.ts';
import { executeRanks } from './reference/ranks.ts';
import { InputError, type TokenInput } from './inputs.ts';
import { namedOutputs, paramTensors, prepareRun, type NamedOutput } from './run-model.ts';
import type { TensorSource } from './safetensors/index.ts';
import { rankWeights } from './weights/shard.ts';
import type { BoundParam, NameMapping } from './weights/bind.ts';

export interface RankInput {
  weights: Map<string, BoundParam>;
  ids: Record<string, Int32Array>;
}

/** Runs every rank of `graph` (all in this process) at the per-rank sizes; each rank's outputs by name. */
export type RanksExecutor = (ranks: RankInput[], sizes: Record<string, number>) => Record<string, Float32Array | Int32Array>[];

export function referenceRanksExecutor(graph: Graph): RanksExecutor {
  return (ranks, sizes) => executeRanks(graph, ranks.map((r) => ({
    params: paramTensors(r.weights),
    inputs: Object.fromEntries(graph.inputs.map((i) => [i.name, { dtype: 'i32' as const, shape: [sizes.batch!, r.ids[i.name]!.length / sizes.batch!], data: r.ids[i.name]! }])),
  })), sizes).map((r) => Object.fromEntries(Object.entries(r.outputs).map(([k, t]) => [k, t.data])));
}

/**
 * Each rank's share of a run bound to the single-device graph: batch / ranks consecutive sequences of every input,
 * and its slice of `parallel`'s sharded weights; the sizes every rank runs at.
 */
export function splitRanks(parallel: Graph, ranks: number, weights: ReadonlyMap<string, BoundParam>, ids: Record<string, Int32Array>, sizes: Record<string, number>): { ranks: RankInput[]; sizes: Record<string, number> } {
  const batch = sizes.batch!;
  if (batch % ranks !== 0) throw new InputError(`the inputs hold ${batch} sequences, which do not split over ${ranks} ranks: give a multiple of ${ranks}`);
  const share = batch / ranks;
  return {
    ranks: Array.from({ length: ranks }, (_, r): RankInput => ({
      weights: rankWeights(parallel.params, weights, r),
      ids: Object.fromEntries(Object.entries(ids).map(([k, v]) => {
        const per = v.length / batch;
        return [k, v.slice(r * share * per, (r + 1) * share * per)];
      })),
    })),
    sizes: { ...sizes, batch: share },
  };
}

/** The ranks' outputs as one run's: concatenated in rank order, scalars (the losses) averaged. */
export function joinRanks(outs: Record<string, Float32Array | Int32Array>[]): Record<string, Float32Array | Int32Array> {
  const joined: Record<string, Float32Array | Int32Array> = {};
  for (const name of Object.keys(outs[0]!)) {
    const parts = outs.map((o) => o[name]!);
    if (parts.every((p) => p.length === 1) && parts[0] instanceof Float32Array) {
      joined[name] = Float32Array.of(parts.reduce((s, p) => s + p[0]!, 0) / parts.length);
      continue;
    }
    const all = parts[0] instanceof Int32Array ? new Int32Array(parts.reduce((n, p) => n + p.length, 0)) : new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      all.set(p, at);
      at += p.length;
    }
    joined[name] = all;
  }
  return joined;
}

export function runExpertParallelModel(
  single: Graph, parallel: Graph, ranks: number, mappings: readonly NameMapping[], checkpoint: TensorSource, weightsPath: string,
  inputs: Map<string, TokenInput>, executor: RanksExecutor,
): NamedOutput[] {
  const { weights, ids, sizes } = prepareRun(single, mappings, checkpoint, weightsPath, inputs);
  const split = splitRanks(parallel, ranks, weights, ids, sizes);
  return namedOutputs(parallel, joinRanks(executor(split.ranks, split.sizes)), sizes);
}
