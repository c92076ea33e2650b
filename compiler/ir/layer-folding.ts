// Keeping pictures of deep models readable: layers are folded into one placeholder per run of layers not shown.
// By default a stack shows the first layer of each distinct structure (DeepSeek-V3: decoder.0, dense, and
// decoder.3, the first MoE layer) and folds the rest; `--layers 0-2` picks layers by index instead.
import { layerOf } from './blocks.ts';
import type { Graph } from './types.ts';

export interface Fold {
  /** The placeholder's node id in the picture. */
  id: string;
  label: string;
}

/** 'auto': the first layer of each distinct structure; 'all': every layer; or the layer indices to show. */
export type LayerSelection = 'auto' | 'all' | ReadonlySet<number>;

/** `0-2,5` → {0, 1, 2, 5}; `all` → 'all'. Undefined for text that is neither. */
export function parseLayerSelection(text: string): LayerSelection | undefined {
  if (text === 'all' || text === 'auto') return text;
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!m) return undefined;
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a || b - a > 100000) return undefined;
    for (let i = a; i <= b; i++) out.add(i);
  }
  return out;
}

/** What makes two layers the same picture: their ops, attributes, types and locs, with the layer index taken out. */
function layerSignatures(g: Graph): Map<string, Map<number, string>> {
  const parts = new Map<string, Map<number, string[]>>();
  for (const n of g.nodes) {
    const l = layerOf(n.loc);
    // Constants are merged across layers (common-subexpression-elimination): the first layer holds what all read.
    if (!l || n.op === 'const') continue;
    const strip = (s: string) => s.replace(/^(@?[^.]+)\.\d+(\.|$)/, '$1.*$2');
    let stack = parts.get(l.stack);
    if (!stack) parts.set(l.stack, (stack = new Map()));
    let layer = stack.get(l.index);
    if (!layer) stack.set(l.index, (layer = []));
    layer.push(JSON.stringify([n.op, n.attrs, n.types, strip(n.loc!), n.inputs.filter((r) => r.startsWith('@')).map(strip)]));
  }
  return new Map([...parts].map(([s, layers]) => [s, new Map([...layers].map(([i, p]) => [i, p.join('\n')]))]));
}

/** The layers to draw in each stack. */
function shownLayers(signatures: Map<number, string>, selection: LayerSelection): Set<number> {
  if (selection === 'all') return new Set(signatures.keys());
  if (selection !== 'auto') return new Set([...signatures.keys()].filter((i) => selection.has(i)));
  const seen = new Set<string>();
  const shown = new Set<number>();
  for (const [i, sig] of [...signatures].sort((a, b) => a[0] - b[0])) {
    if (!seen.has(sig)) shown.add(i);
    seen.add(sig);
  }
  return shown;
}

/** The placeholder of every node in a layer not shown, by node index; runs of consecutive hidden layers share one. */
export function foldLayers(g: Graph, selection: LayerSelection): Map<number, Fold> {
  const folds = new Map<number, Fold>();
  if (selection === 'all') return folds;
  const foldOf = new Map<string, Fold>();
  for (const [stack, signatures] of layerSignatures(g)) {
    const shown = shownLayers(signatures, selection);
    const indices = [...signatures.keys()].sort((a, b) => a - b);
    let run: number[] = [];
    const close = () => {
      if (run.length === 0) return;
      const first = run[0]!;
      const last = run[run.length - 1]!;
      const names = run.length === 1 ? `${stack}.${first}` : `${stack}.${first} … ${stack}.${last}`;
      const fold: Fold = { id: `fold:${stack}.${first}-${last}`, label: `${names}\n${run.length} layer${run.length === 1 ? '' : 's'} not drawn` };
      for (const i of run) foldOf.set(`${stack}.${i}`, fold);
      run = [];
    };
    for (const i of indices) {
      if (shown.has(i)) close();
      else run.push(i);
    }
    close();
  }
  g.nodes.forEach((n, idx) => {
    const l = layerOf(n.loc);
    const fold = l && foldOf.get(`${l.stack}.${l.index}`);
    if (fold) folds.set(idx, fold);
  });
  return folds;
}
