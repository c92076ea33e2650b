// One pattern-matching driver for every rewrite (tinygrad's PatternMatcher idea): a pass is a list of named
// rules; each looks at a node and its producers and may return a node to put in its place, computing the same
// results. Producers left without uses disappear; the driver repeats until no rule applies.
import type { Graph, Node, TensorType } from '../ir/types.ts';
import { typeEnvironment } from '../ir/verify.ts';
import type { Pass } from './pass.ts';

export interface RewriteContext {
  /** The node that defines a value, if a node does (not inputs or parameters). */
  producer(ref: string): Node | undefined;
  /** How many operands, and graph outputs, read a value. */
  uses(ref: string): number;
  type(ref: string): TensorType | undefined;
}

/** A replacement for the matched node; `remove` lists producers it absorbs whose results it now defines. */
export interface Replacement {
  node: Node;
  remove?: Node[];
}

export interface Rule {
  name: string;
  apply(node: Node, ctx: RewriteContext): Node | Replacement | undefined;
}

/** True when `ref` is made by an `op` node read nowhere else, so folding it into its reader loses nothing. */
export function onlyUseOf(ctx: RewriteContext, ref: string, op: string | string[]): Node | undefined {
  const p = ctx.producer(ref);
  const ops = Array.isArray(op) ? op : [op];
  return p && ops.includes(p.op) && ctx.uses(ref) === 1 && p.outputs.length === 1 ? p : undefined;
}

function liveNodes(nodes: readonly Node[], roots: readonly string[]): Set<Node> {
  const live = new Set(roots);
  const out = new Set<Node>();
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i]!;
    if (!n.outputs.some((o) => live.has(o))) continue;
    out.add(n);
    for (const r of n.inputs) live.add(r);
  }
  return out;
}

function rewriteOnce(g: Graph, rules: readonly Rule[]): Graph | undefined {
  const producers = new Map<string, Node>();
  for (const n of g.nodes) for (const o of n.outputs) producers.set(o, n);
  const useCount = new Map<string, number>();
  for (const n of g.nodes) for (const r of n.inputs) useCount.set(r, (useCount.get(r) ?? 0) + 1);
  for (const o of g.outputs) useCount.set(o.value, (useCount.get(o.value) ?? 0) + 1);
  const types = typeEnvironment(g);
  const ctx: RewriteContext = { producer: (r) => producers.get(r), uses: (r) => useCount.get(r) ?? 0, type: (r) => types.get(r) };
  for (let i = 0; i < g.nodes.length; i++) {
    for (const rule of rules) {
      const result = rule.apply(g.nodes[i]!, ctx);
      if (!result) continue;
      const r: Replacement = 'node' in result ? result : { node: result };
      const absorbed = new Set(r.remove ?? []);
      // The replacement sits where the matched node was: no node in between may read what it now defines.
      const first = Math.min(i, ...[...absorbed].map((n) => g.nodes.indexOf(n)));
      const defined = new Set(r.node.outputs);
      if (g.nodes.slice(first, i).some((n) => !absorbed.has(n) && n.inputs.some((x) => defined.has(x)))) continue;
      const nodes = g.nodes.map((n, j) => (j === i ? r.node : n)).filter((n) => !absorbed.has(n));
      // Producers only the replaced nodes read are now dead; nodes that were dead before are left to DCE. A
      // replacement is as dead as the node it replaces (code no output reads, such as an encoder no cross-attention
      // reads): dropping it would leave its dead readers reading nothing.
      const wasLive = liveNodes(g.nodes, g.outputs.map((o) => o.value));
      const isLive = liveNodes(nodes, g.outputs.map((o) => o.value));
      return { ...g, nodes: nodes.filter((n) => isLive.has(n) || !wasLive.has(n === r.node ? g.nodes[i]! : n)) };
    }
  }
  return undefined;
}

export function rewritePass(name: string, description: string, rules: readonly Rule[]): Pass {
  return {
    name,
    description,
    run(g: Graph): Graph {
      let graph = g;
      for (let step = 0; step < 1_000_000; step++) {
        const next = rewriteOnce(graph, rules);
        if (!next) return graph;
        graph = next;
      }
      throw new Error(`${name}: the rules did not reach a fixed point`);
    },
  };
}
