// dead-value-elimination: removes nodes none of whose results reach an output, and parameters no node reads.
import type { Graph } from '../ir/types.ts';
import type { Pass } from './pass.ts';

export const deadValueElimination: Pass = {
  name: 'dead-value-elimination',
  description: 'remove nodes whose results are never used, and unused parameters',
  run(g: Graph): Graph {
    const live = new Set(g.outputs.map((o) => o.value));
    const keep: boolean[] = new Array(g.nodes.length).fill(false);
    for (let i = g.nodes.length - 1; i >= 0; i--) {
      const n = g.nodes[i]!;
      if (n.outputs.some((o) => live.has(o))) {
        keep[i] = true;
        for (const r of n.inputs) live.add(r);
      }
    }
    return {
      ...g,
      nodes: g.nodes.filter((_, i) => keep[i]),
      params: g.params.filter((p) => live.has(`@${p.name}`)),
    };
  },
};
