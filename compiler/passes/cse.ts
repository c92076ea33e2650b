// common-subexpression-elimination: a node with the same op, operands and attributes as an earlier one is
// replaced by it. Lowering emits per-layer copies of position tables, masks and the like; this merges them.
import type { Graph, Node } from '../ir/types.ts';
import type { Pass } from './pass.ts';

function key(n: Node): string {
  const attrs = Object.keys(n.attrs).sort().map((k) => `${k}=${JSON.stringify(n.attrs[k])}`);
  return `${n.op}(${n.inputs.join(',')}){${attrs.join(',')}}`;
}

export const commonSubexpressionElimination: Pass = {
  name: 'common-subexpression-elimination',
  description: 'merge nodes that compute the same thing from the same operands',
  run(g: Graph): Graph {
    const seen = new Map<string, Node>();
    const rename = new Map<string, string>();
    const nodes: Node[] = [];
    for (const n0 of g.nodes) {
      const n = { ...n0, inputs: n0.inputs.map((r) => rename.get(r) ?? r) };
      const k = key(n);
      const prev = seen.get(k);
      if (prev && prev.outputs.length === n.outputs.length) {
        n.outputs.forEach((o, i) => rename.set(o, prev.outputs[i]!));
        continue;
      }
      seen.set(k, n);
      nodes.push(n);
    }
    return { ...g, nodes, outputs: g.outputs.map((o) => ({ ...o, value: rename.get(o.value) ?? o.value })) };
  },
};
