// The graph IR as a Graphviz picture (`moec ir --format dot | dot -Tsvg`): one box per node labelled with its op
// and attributes, edges labelled with the tensor type they carry, inputs and outputs as ellipses, and nodes grouped
// into clusters by the first two components of their loc (`decoder.0`). Parameters are folded into the label of
// the node that reads them (`linear\n@decoder.0.attn.q.weight`) unless `expandParams` draws them as grey boxes.
import { formatAttrEntries, formatType } from './print.ts';
import type { Graph, TensorType } from './types.ts';

export interface DotOptions {
  /** Draw every parameter as its own small grey box with edges to its readers (default: fold into labels). */
  expandParams?: boolean;
  /** Attributes are packed into label lines of about this many characters (default 40); longer ones are cut with an ellipsis. */
  lineWidth?: number;
}

/** A DOT quoted string; `\n` in `s` becomes a centred line break. */
export function dotQuote(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '"' || c === '\\') out += `\\${c}`;
    else if (c === '\n') out += '\\n';
    else if (c === '\r') continue;
    else out += c;
  }
  return `${out}"`;
}

/** The cluster a node belongs to: the first two dot-separated components of its loc (`decoder.0.moe` → `decoder.0`). */
export function clusterOf(loc: string | undefined): string | undefined {
  if (!loc) return undefined;
  const first = loc.indexOf('.');
  if (first < 0) return loc;
  const second = loc.indexOf('.', first + 1);
  return second < 0 ? loc : loc.slice(0, second);
}

export function graphToDot(g: Graph, options: DotOptions = {}): string {
  const width = options.lineWidth ?? 40;
  const q = dotQuote;
  const lines: string[] = [
    `digraph ${q(g.name)} {`,
    '  graph [rankdir=TB, fontname="Helvetica", fontsize=10];',
    '  node [shape=box, style=rounded, fontname="Helvetica", fontsize=10];',
    '  edge [fontname="Helvetica", fontsize=8, color="#555555"];',
  ];

  // Where each value comes from, and its type when known.
  const producer = new Map<string, string>();
  const types = new Map<string, TensorType>();
  const params = new Map<string, TensorType>();
  for (const p of g.params) params.set(`@${p.name}`, p.type);
  for (const i of g.inputs) {
    const ref = `%${i.name}`;
    producer.set(ref, `input:${ref}`);
    types.set(ref, i.type);
    lines.push(`  ${q(`input:${ref}`)} [shape=ellipse, style=solid, label=${q(`${i.name}\n${formatType(i.type)}`)}];`);
  }
  g.nodes.forEach((n, idx) => {
    n.outputs.forEach((o, k) => {
      producer.set(o, `n${idx}`);
      const t = n.types?.[k];
      if (t) types.set(o, t);
    });
  });

  // Parameters drawn as boxes: all of them when expanded, else only those an output names directly.
  const drawnParams = new Set<string>();
  const drawParam = (ref: string): string => {
    const id = `param:${ref}`;
    if (!drawnParams.has(ref)) {
      drawnParams.add(ref);
      const t = params.get(ref);
      lines.push(`  ${q(id)} [shape=box, style=filled, fillcolor="#e8e8e8", color="#999999", fontsize=8, height=0.2, label=${q(t ? `${ref}\n${formatType(t)}` : ref)}];`);
    }
    return id;
  };
  const missing = new Set<string>();
  const source = (ref: string): string => {
    const p = producer.get(ref);
    if (p) return p;
    if (params.has(ref)) return drawParam(ref);
    const id = `undefined:${ref}`;
    if (!missing.has(ref)) {
      missing.add(ref);
      lines.push(`  ${q(id)} [shape=ellipse, style=dashed, color=red, fontcolor=red, label=${q(`${ref}\n(undefined)`)}];`);
    }
    return id;
  };

  // Node boxes, clustered by loc.
  const clusters = new Map<string, string[]>();
  const top: string[] = [];
  g.nodes.forEach((n, idx) => {
    const label = [n.op];
    let current = '';
    for (let a of formatAttrEntries(n.attrs, n.op)) {
      if (a.length > width) a = `${a.slice(0, width - 1)}…`;
      if (current && current.length + 2 + a.length > width) {
        label.push(current);
        current = a;
      } else {
        current = current ? `${current}, ${a}` : a;
      }
    }
    if (current) label.push(current);
    if (!options.expandParams) for (const r of n.inputs) if (r.startsWith('@')) label.push(r);
    const line = `${q(`n${idx}`)} [label=${q(label.join('\n'))}];`;
    const key = clusterOf(n.loc);
    if (key === undefined) {
      top.push(line);
    } else {
      let members = clusters.get(key);
      if (!members) clusters.set(key, (members = []));
      members.push(line);
    }
  });
  for (const l of top) lines.push(`  ${l}`);
  for (const [key, members] of clusters) {
    lines.push(`  subgraph ${q(`cluster_${key}`)} {`, `    label=${q(key)}; style=rounded; color="#aaaaaa"; fontcolor="#555555";`);
    for (const m of members) lines.push(`    ${m}`);
    lines.push('  }');
  }

  // Edges, labelled with the type of the value they carry.
  const edge = (ref: string, to: string): void => {
    const t = types.get(ref) ?? params.get(ref);
    lines.push(`  ${q(source(ref))} -> ${q(to)}${t ? ` [label=${q(formatType(t))}]` : ''};`);
  };
  g.nodes.forEach((n, idx) => {
    for (const r of n.inputs) if (options.expandParams || !params.has(r)) edge(r, `n${idx}`);
  });
  for (const o of g.outputs) {
    const id = `output:${o.name}`;
    lines.push(`  ${q(id)} [shape=ellipse, style=solid, label=${q(o.name)}];`);
    edge(o.value, id);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
