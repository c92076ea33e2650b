// The graph IR as a Graphviz picture: ops as boxes clustered by the block they come from, tensor types on edges,
// parameters folded into the label of the op that reads them.
import { formatAttrs, formatTensorType } from './print.ts';
import type { Graph } from './types.ts';
import { typeEnvironment } from './verify.ts';

const q = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

export function graphToDot(g: Graph): string {
  const types = typeEnvironment(g);
  const producer = new Map<string, string>();
  const lines = [`digraph ${q(g.name)} {`, '  rankdir=TB;', '  node [shape=box, fontname="Helvetica", fontsize=10];', '  edge [fontname="Helvetica", fontsize=8];'];
  for (const i of g.inputs) {
    lines.push(`  ${q(`%${i.name}`)} [shape=ellipse, label=${q(`${i.name}\n${formatTensorType(i.type)}`)}];`);
    producer.set(`%${i.name}`, `%${i.name}`);
  }
  const clusters = new Map<string, string[]>();
  g.nodes.forEach((n, idx) => {
    const id = `n${idx}`;
    for (const o of n.outputs) producer.set(o, id);
    const params = n.inputs.filter((r) => r.startsWith('@'));
    const label = [n.op + formatAttrs(n.attrs).replace(/^ /, '\n'), ...params].join('\n');
    const key = n.loc ? n.loc.split('.').slice(0, 2).join('.') : '';
    const list = clusters.get(key) ?? [];
    list.push(`${q(id)} [label=${q(label)}];`);
    clusters.set(key, list);
  });
  let c = 0;
  for (const [key, members] of clusters) {
    if (!key) {
      for (const m of members) lines.push(`  ${m}`);
      continue;
    }
    lines.push(`  subgraph ${q(`cluster_${c++}`)} {`, `    label=${q(key)};`, '    style=rounded; color=gray;');
    for (const m of members) lines.push(`    ${m}`);
    lines.push('  }');
  }
  g.nodes.forEach((n, idx) => {
    for (const r of n.inputs) {
      if (r.startsWith('@')) continue;
      const from = producer.get(r);
      const t = types.get(r);
      if (from) lines.push(`  ${q(from)} -> ${q(`n${idx}`)}${t ? ` [label=${q(formatTensorType(t))}]` : ''};`);
    }
  });
  for (const o of g.outputs) {
    lines.push(`  ${q(`out:${o.name}`)} [shape=ellipse, label=${q(o.name)}];`);
    const from = producer.get(o.value);
    if (from) lines.push(`  ${q(from)} -> ${q(`out:${o.name}`)};`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
