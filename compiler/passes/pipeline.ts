// The pass pipeline, as data: the order passes run in, each verified after it runs.
import { verifyGraph } from '../ir/verify.ts';
import type { Graph } from '../ir/types.ts';
import { commonSubexpressionElimination } from './cse.ts';
import { deadValueElimination } from './dead-values.ts';
import { foldConstants } from './fold-constants.ts';
import { fuseAttention, fuseElementwise, fuseEpilogues, fuseGatedFfn, fuseRouter } from './fusion.ts';
import { PassError, type Pass } from './pass.ts';
import { shapeInference } from './shape-inference.ts';

export const graphPasses: readonly Pass[] = [
  shapeInference, foldConstants, commonSubexpressionElimination, fuseGatedFfn, fuseEpilogues, fuseRouter, fuseAttention,
  fuseElementwise,
  deadValueElimination,
];

export interface PipelineOptions {
  /** Stop after this pass (`lower` is the graph straight from the spec, before any pass). */
  after?: string;
  /** Passes to skip. shape-inference cannot be skipped: every later stage needs types. */
  disable?: readonly string[];
  /** Run the verifier after every pass (default true). */
  verify?: boolean;
}

export const LOWER_STAGE = 'lower';

export function passNames(): string[] {
  return [LOWER_STAGE, ...graphPasses.map((p) => p.name)];
}

export function runPipeline(g: Graph, options: PipelineOptions = {}): Graph {
  const names = passNames();
  if (options.after && !names.includes(options.after)) {
    throw new PassError('pipeline', `no pass named '${options.after}'; the passes are: ${names.join(', ')}`);
  }
  for (const d of options.disable ?? []) {
    if (!names.includes(d)) throw new PassError('pipeline', `cannot disable '${d}': no such pass; the passes are: ${names.join(', ')}`);
    if (d === shapeInference.name || d === LOWER_STAGE) throw new PassError('pipeline', `'${d}' cannot be disabled: later stages need it`);
  }
  const check = (stage: string, graph: Graph): void => {
    if (options.verify === false) return;
    const problems = verifyGraph(graph);
    if (problems.length > 0) {
      throw new PassError(stage, `the IR is invalid after ${stage}:\n  ${problems.slice(0, 10).map((p) => p.message).join('\n  ')}${problems.length > 10 ? `\n  … and ${problems.length - 10} more` : ''}`);
    }
  };
  check(LOWER_STAGE, g);
  if (options.after === LOWER_STAGE) return g;
  let graph = g;
  for (const pass of graphPasses) {
    if (options.disable?.includes(pass.name)) continue;
    graph = pass.run(graph);
    check(pass.name, graph);
    if (options.after === pass.name) break;
  }
  return graph;
}
