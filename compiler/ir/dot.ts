// The graph IR as a Graphviz picture (`moec ir --format dot|svg`, `moec viz`): one box per node labelled with its op
// and attributes, edges labelled with the tensor type they carry, inputs and outputs as ellipses, and nodes grouped
// into nested clusters by the layer and block of their loc (`decoder.0` around `decoder.0.attn` and `decoder.0.moe`).
// Parameters are folded into the label of the node that reads them (`linear\n@decoder.0.attn.q.weight`) unless
// `expandParams` draws them as grey boxes. Options draw a MoE layer's experts as one box, kernels as clusters of the
// ops they fuse, and runs of layers as one placeholder.
import { blockPath } from './blocks.ts';
import { expertChainTitle, expertChains } from './expert-chains.ts';
import type { KernelGroup } from './fusion-groups.ts';
import type { Fold } from './layer-folding.ts';
import { formatAttrEntries, formatType } from './print.ts';
import type { Graph, TensorType } from './types.ts';

export interface DotOptions {
  /** Draw every parameter as its own small grey box with edges to its readers (default: fold into labels). */
  expandParams?: boolean;
  /** Attributes are packed into label lines of about this many characters (default 40); longer ones are cut with an ellipsis. */
  lineWidth?: number;
  /**
   * Each MoE layer's expert computation (compiler/ir/expert-chains.ts): one 3-D box `experts ×E (top-k)` between the
   * dispatch and the combine ('node'), or a cluster of that name around its ops ('cluster'). Default: ops as they are.
   */
  experts?: 'node' | 'cluster';
  /** Kernels (compiler/ir/fusion-groups.ts): a kernel of several ops is drawn as a cluster around them. */
  kernels?: readonly KernelGroup[];
  /** Nodes drawn as a placeholder instead, by node index (compiler/ir/layer-folding.ts). */
  folds?: ReadonlyMap<number, Fold>;
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

/** A cluster of the picture: its DOT id, label and style. */
interface ClusterRef {
  id: string;
  label: string;
  style: string;
}

/** One box of the picture: a node, or several nodes drawn as one (the experts of a layer, folded layers). */
interface Box {
  id: string;
  line: string;
  path: ClusterRef[];
  /** The first node it draws: boxes, and so clusters, are laid out in execution order. */
  order: number;
}

const blockStyle = 'style=rounded; color="#aaaaaa"; fontcolor="#555555";';
const expertStyle = 'style="rounded,filled"; fillcolor="#fff3e0"; color="#e65100"; fontcolor="#e65100";';
const kernelStyle = 'style="rounded,filled"; fillcolor="#e3f2fd"; color="#1565c0"; fontcolor="#1565c0"; fontsize=9;';
const routerOps = new Set(['softmax_topk', 'topk', 'expert_choice', 'hash_route', 'random_second', 'product_topk']);

/** `linear` and its attributes packed into lines of about `width` characters. */
function opLabel(op: string, attrs: Graph['nodes'][number]['attrs'], width: number): string[] {
  const label = [op];
  let current = '';
  for (let a of formatAttrEntries(attrs, op)) {
    if (a.length > width) a = `${a.slice(0, width - 1)}…`;
    if (current && current.length + 2 + a.length > width) {
      label.push(current);
      current = a;
    } else {
      current = current ? `${current}, ${a}` : a;
    }
  }
  if (current) label.push(current);
  return label;
}

/** The cluster path of a node: its layer and block (compiler/ir/blocks.ts). */
function blockClusters(loc: string | undefined): ClusterRef[] {
  return blockPath(loc).map((key) => ({ id: `cluster_${key}`, label: key, style: blockStyle }));
}

/** The lines of nested `subgraph cluster_… { … }` around the boxes, outermost clusters first. */
function clusterLines(boxes: readonly Box[]): string[] {
  interface Tree { ref?: ClusterRef; lines: string[]; children: Map<string, Tree> }
  const root: Tree = { lines: [], children: new Map() };
  for (const b of [...boxes].sort((x, y) => x.order - y.order)) {
    let t = root;
    for (const ref of b.path) {
      let c = t.children.get(ref.id);
      if (!c) t.children.set(ref.id, (c = { ref, lines: [], children: new Map() }));
      t = c;
    }
    t.lines.push(b.line);
  }
  const out: string[] = [];
  const walk = (t: Tree, indent: string): void => {
    for (const l of t.lines) out.push(`${indent}${l}`);
    for (const c of t.children.values()) {
      out.push(`${indent}subgraph ${dotQuote(c.ref!.id)} {`, `${indent}  label=${dotQuote(c.ref!.label)}; ${c.ref!.style}`);
      walk(c, `${indent}  `);
      out.push(`${indent}}`);
    }
  };
  walk(root, '  ');
  return out;
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
  const producer = new Map<string, number>();
  const types = new Map<string, TensorType>();
  const params = new Map<string, TensorType>();
  for (const p of g.params) params.set(`@${p.name}`, p.type);
  for (const i of g.inputs) {
    const ref = `%${i.name}`;
    types.set(ref, i.type);
    lines.push(`  ${q(`input:${ref}`)} [shape=ellipse, style=solid, label=${q(`${i.name}\n${formatType(i.type)}`)}];`);
  }
  g.nodes.forEach((n, idx) => {
    n.outputs.forEach((o, k) => {
      producer.set(o, idx);
      const t = n.types?.[k];
      if (t) types.set(o, t);
    });
  });

  // Which box draws each node: its own, its layer's fold, or its layer's experts.
  const boxOf = new Map<number, string>();
  const boxes: Box[] = [];
  const pathOf = new Map<number, ClusterRef[]>();
  g.nodes.forEach((n, idx) => pathOf.set(idx, blockClusters(n.loc)));
  const folded = new Set<string>();
  for (const [idx, fold] of options.folds ?? []) {
    boxOf.set(idx, fold.id);
    if (folded.has(fold.id)) continue;
    folded.add(fold.id);
    boxes.push({ id: fold.id, path: [], order: idx, line: `${q(fold.id)} [shape=box, style="dashed,rounded", color="#888888", fontcolor="#555555", label=${q(fold.label)}];` });
  }
  if (options.experts) {
    for (const c of expertChains(g)) {
      if (c.members.some((m) => boxOf.has(m))) continue;
      const title = expertChainTitle(c);
      const path = pathOf.get(c.dispatch)!;
      if (options.experts === 'cluster') {
        const ref: ClusterRef = { id: `cluster_experts:${c.dispatch}`, label: title, style: expertStyle };
        for (const m of c.members) pathOf.set(m, [...path, ref]);
        continue;
      }
      const id = `experts:${c.dispatch}`;
      const ops = c.members.map((m) => g.nodes[m]!).filter((n) => n.op.includes('linear')).map((n) => (n.attrs.act ? `${n.op} (${n.attrs.act})` : n.op));
      const label = [title, ops.join(' → '), ...(options.expandParams ? [] : c.params)];
      for (const m of c.members) boxOf.set(m, id);
      boxes.push({ id, path, order: c.members[0]!, line: `${q(id)} [shape=box3d, style=filled, fillcolor="#fff3e0", color="#e65100", label=${q(label.join('\n'))}];` });
    }
  }
  const kernelOf = new Map<number, KernelGroup>();
  for (const k of options.kernels ?? []) {
    for (const m of k.members) kernelOf.set(m, k);
    if (k.members.length < 2) continue;
    const ref: ClusterRef = { id: `cluster_kernel:${k.name}`, label: k.name, style: kernelStyle };
    const anchor = pathOf.get(k.members[k.members.length - 1]!)!;
    for (const m of k.members) pathOf.set(m, [...anchor, ref]);
  }

  // Node boxes.
  g.nodes.forEach((n, idx) => {
    if (boxOf.has(idx)) return;
    const id = `n${idx}`;
    boxOf.set(idx, id);
    const label = opLabel(n.op, n.attrs, width);
    if (!options.expandParams) for (const r of n.inputs) if (r.startsWith('@')) label.push(r);
    const kernel = kernelOf.get(idx);
    if (kernel && kernel.members.length === 1) label.push(`[${kernel.name}]`);
    let style = '';
    if (options.kernels && !kernel) style = ', style="dashed,rounded", color="#888888"';
    else if (options.experts && routerOps.has(n.op)) style = ', style="rounded,filled", fillcolor="#fffde7"';
    boxes.push({ id, path: pathOf.get(idx)!, order: idx, line: `${q(id)} [label=${q(label.join('\n'))}${style}];` });
  });
  lines.push(...clusterLines(boxes));

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
    if (p !== undefined) return boxOf.get(p)!;
    if (params.has(ref)) return drawParam(ref);
    if (types.has(ref) || g.inputs.some((i) => `%${i.name}` === ref)) return `input:${ref}`;
    const id = `undefined:${ref}`;
    if (!missing.has(ref)) {
      missing.add(ref);
      lines.push(`  ${q(id)} [shape=ellipse, style=dashed, color=red, fontcolor=red, label=${q(`${ref}\n(undefined)`)}];`);
    }
    return id;
  };

  // Edges, labelled with the types of the values they carry; one edge per pair of boxes.
  const edges = new Map<string, { from: string; to: string; labels: string[] }>();
  const edge = (ref: string, to: string): void => {
    const from = source(ref);
    if (from === to) return;
    const key = `${from}\u0000${to}`;
    let e = edges.get(key);
    if (!e) edges.set(key, (e = { from, to, labels: [] }));
    const t = types.get(ref) ?? params.get(ref);
    const label = t ? formatType(t) : undefined;
    if (label && !e.labels.includes(label)) e.labels.push(label);
  };
  g.nodes.forEach((n, idx) => {
    const to = boxOf.get(idx)!;
    if (to.startsWith('fold:')) return;
    for (const r of n.inputs) if (options.expandParams || !params.has(r)) edge(r, to);
  });
  // Folded layers: one edge for what enters a run of folded layers and one for what leaves it.
  g.nodes.forEach((n, idx) => {
    const to = boxOf.get(idx)!;
    if (to.startsWith('fold:')) for (const r of n.inputs) if (!params.has(r) && !(boxOf.get(producer.get(r)!) ?? '').startsWith('fold:')) edge(r, to);
  });
  for (const o of g.outputs) {
    const p = producer.get(o.value);
    if (p !== undefined && options.folds?.has(p)) continue;
    const id = `output:${o.name}`;
    lines.push(`  ${q(id)} [shape=ellipse, style=solid, label=${q(o.name)}];`);
    edge(o.value, id);
  }
  for (const e of edges.values()) {
    const labels = e.labels.length > 2 ? [...e.labels.slice(0, 2), '…'] : e.labels;
    lines.push(`  ${q(e.from)} -> ${q(e.to)}${labels.length ? ` [label=${q(labels.join('\n'))}]` : ''};`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
