// Several ranks of one SPMD graph (expert parallelism) on the reference executor, in lockstep: every rank runs each
// node on its own data, and a collective node runs once over all ranks' operands. The oracle a multi-GPU run is
// checked against, and how a single machine checks the expert-parallel lowering.
import type { Graph } from '../../compiler/ir/types.ts';
import { interpreter, type ExecuteResult } from './execute.ts';
import { collectiveKernels } from './kernels/collectives.ts';
import type { Tensor } from './tensor.ts';

export interface RankData {
  params: (name: string) => Tensor;
  inputs: Record<string, Tensor>;
}

export function executeRanks(graph: Graph, ranks: RankData[], sizes: Record<string, number>): ExecuteResult[] {
  const runs = ranks.map((r) => interpreter(graph, r.params, r.inputs, sizes));
  graph.nodes.forEach((n, idx) => {
    const collective = collectiveKernels[n.op];
    if (!collective) {
      for (const run of runs) run.node(idx);
      return;
    }
    const results = collective(runs.map((run) => run.operands(idx)), n.attrs);
    runs.forEach((run, r) => run.deliver(idx, results[r]!));
  });
  return runs.map((run) => run.outputs());
}
