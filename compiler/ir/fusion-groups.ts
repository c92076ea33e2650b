// Which ops each kernel computes. Fusion passes replace chains of nodes by one node that reads the chain's operands
// and defines its results under the same value names, so the ops a fused node stands for are the nodes of the
// unfused graph between its operands and its results. The kernel schedule (compiler/kernel/schedule.ts) then makes
// one kernel of every node but a reshape (a view), named k<i>_<op>.
import type { Graph } from './types.ts';

export interface KernelGroup {
  /** As the schedule names it: `k12_linear_add`. */
  name: string;
  /** The node of the fused graph the kernel computes. */
  node: number;
  /** The nodes of the unfused graph it computes, in execution order. */
  members: number[];
}

/** The kernels of `fused`, each with the nodes of `unfused` (the same graph before fusion) it computes. */
export function kernelGroups(unfused: Graph, fused: Graph): KernelGroup[] {
  const producer = new Map<string, number>();
  unfused.nodes.forEach((n, i) => n.outputs.forEach((o) => producer.set(o, i)));
  const groups: KernelGroup[] = [];
  let k = 0;
  fused.nodes.forEach((n, idx) => {
    if (n.op === 'reshape') return;
    const boundary = new Set(n.inputs);
    const members = new Set<number>();
    const stack = n.outputs.filter((o) => !boundary.has(o));
    while (stack.length > 0) {
      const p = producer.get(stack.pop()!);
      if (p === undefined || members.has(p)) continue;
      members.add(p);
      for (const r of unfused.nodes[p]!.inputs) if (!boundary.has(r)) stack.push(r);
    }
    groups.push({ name: `k${k++}_${n.op}`, node: idx, members: [...members].sort((a, b) => a - b) });
  });
  return groups;
}
