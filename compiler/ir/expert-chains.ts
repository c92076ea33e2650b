// The experts of a MoE layer as one unit for pictures: the nodes after a `dispatch` that compute on its sorted rows
// (grouped_linear, gated_grouped_linear, their activations) up to the `combine` that un-sorts them. A picture draws
// router → dispatch → [experts ×E (top-k)] → combine instead of every grouped matmul.
import type { Graph } from './types.ts';

export interface ExpertChain {
  /** Node indices of the expert computation, strictly between the dispatch and the combine. */
  members: number[];
  dispatch: number;
  combine: number;
  experts: number;
  /** Experts per token (the dispatch's indices' last dimension), or undefined when it is not known. */
  topK?: number;
  /** How tokens were assigned: 'top-k', or the op that chose them when it is not a plain top-k (expert_choice, hash_route). */
  routing: string;
  /** The routed expert weights the members read. */
  params: string[];
}

/** Every dispatch … combine pair of the graph with the nodes between them that read the dispatched rows. */
export function expertChains(g: Graph): ExpertChain[] {
  const producer = new Map<string, number>();
  g.nodes.forEach((n, i) => n.outputs.forEach((o) => producer.set(o, i)));
  const chains: ExpertChain[] = [];
  g.nodes.forEach((d, di) => {
    if (d.op !== 'dispatch') return;
    // Forward from the dispatch's rows and offsets; a combine reading its slots ends the chain.
    const reached = new Set<string>([d.outputs[0]!, d.outputs[1]!]);
    const members: number[] = [];
    let combine = -1;
    for (let i = di + 1; i < g.nodes.length && combine < 0; i++) {
      const n = g.nodes[i]!;
      if (!n.inputs.some((r) => reached.has(r))) continue;
      if (n.op === 'combine' && n.inputs[1] === d.outputs[2]) combine = i;
      else if (n.op !== 'combine' && n.op !== 'dispatch') {
        members.push(i);
        for (const o of n.outputs) reached.add(o);
      }
    }
    if (combine < 0 || members.length === 0) return;
    const idx = g.nodes[producer.get(d.inputs[1]!) ?? -1];
    const idxType = idx?.types?.[idx.outputs.indexOf(d.inputs[1]!)];
    const last = idxType?.shape[idxType.shape.length - 1];
    const routing = !idx || ['topk', 'softmax_topk', 'random_second'].includes(idx.op) ? 'top-k' : idx.op;
    const params = [...new Set(members.flatMap((m) => g.nodes[m]!.inputs.filter((r) => r.startsWith('@'))))];
    const chain: ExpertChain = { members, dispatch: di, combine, experts: Number(d.attrs.experts), routing, params };
    if (typeof last === 'number' && routing !== 'expert_choice') chain.topK = last;
    chains.push(chain);
  });
  return chains;
}

/** `experts ×8 (top-2)`, `experts ×64 (expert_choice)`. */
export function expertChainTitle(c: ExpertChain): string {
  const how = c.routing === 'top-k' ? (c.topK !== undefined ? `top-${c.topK}` : 'top-k') : c.routing;
  return `experts ×${c.experts} (${how})`;
}
