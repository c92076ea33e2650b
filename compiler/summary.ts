// An architecture summary like torchinfo's or Keras' summary(): per block (embed, each layer's attention and
// ffn/moe, the final norm, the head) its parameters, active parameters, forward FLOPs per token and the bytes of the
// values it computes at batch 1. Read off the graph IR as compiler/stats.ts reads its totals, which the summary's
// totals equal: a parameter is counted in the block of the first node that reads it (tied embeddings in `embed`).
import { blockOf, blockPath } from './ir/blocks.ts';
import { evalDim, numel } from './ir/dims.ts';
import { ops } from './ir/ops.ts';
import type { DType, Graph, TensorType } from './ir/types.ts';
import { typeEnvironment } from './ir/verify.ts';

export interface SummaryCounts {
  params: number;
  active_params: number;
  /** Forward FLOPs per token at `seq` tokens, matrix products only, as `moec stats` counts them. */
  flops_per_token: number;
  /** Bytes of the values the block's nodes compute (reshapes are views and add none), batch 1, `seq` tokens. */
  activation_bytes: number;
}

export interface SummaryRow extends SummaryCounts {
  /** `embed`, `decoder.0` (a layer: the sum of its blocks), `decoder.0.attn`, `decoder.final_norm`, `head`. */
  block: string;
  /** 0 for layers and blocks outside layers, 1 for the blocks of a layer. */
  depth: number;
}

export interface ModelSummary {
  model: string;
  seq: number;
  rows: SummaryRow[];
  total: SummaryCounts;
}

const dtypeBytes: Record<DType, number> = { f32: 4, f16: 2, bf16: 2, i32: 4, i64: 8, bool: 1 };

/** Unrounded sums of one block. */
type Raw = { params: number; active: number; flops: number; bytes: number };

const rounded = (r: Raw, seq: number): SummaryCounts => ({
  params: r.params, active_params: Math.round(r.active), flops_per_token: Math.round(r.flops / seq), activation_bytes: r.bytes,
});

/** Each parameter's block: that of the first node reading it, else the block its name reads as. */
function paramBlocks(g: Graph): Map<string, string> {
  const out = new Map<string, string>();
  for (const n of g.nodes) for (const r of n.inputs) if (r.startsWith('@') && !out.has(r.slice(1))) out.set(r.slice(1), blockOf(n.loc) ?? '(other)');
  for (const p of g.params) if (!out.has(p.name)) out.set(p.name, blockOf(p.name) ?? p.name);
  return out;
}

export function summarize(g: Graph, seq = 2048): ModelSummary {
  const sizes = { batch: 1, seq, dec_seq: seq };
  const raw = new Map<string, Raw>();
  const at = (block: string): Raw => {
    let r = raw.get(block);
    if (!r) raw.set(block, (r = { params: 0, active: 0, flops: 0, bytes: 0 }));
    return r;
  };
  // Blocks in execution order; parameters no node reads go last.
  for (const n of g.nodes) at(blockOf(n.loc) ?? '(other)');
  const blocks = paramBlocks(g);
  for (const p of g.params) {
    if (p.attrs.buffer === true) continue;
    const n = evalDim(numel(p.type.shape), sizes);
    const r = at(blocks.get(p.name)!);
    r.params += n;
    const experts = p.attrs.experts;
    const perToken = typeof p.attrs.per_token === 'number' ? p.attrs.per_token : experts;
    r.active += typeof experts === 'number' ? (n * Math.min(perToken as number, experts)) / experts : n;
  }
  const env = typeEnvironment(g);
  for (const n of g.nodes) {
    if (!n.types) throw new Error(`a summary needs types: run shape-inference first (node ${n.outputs.join(', ')} = ${n.op})`);
    const r = at(blockOf(n.loc) ?? '(other)');
    const spec = ops[n.op];
    if (spec?.flops) {
      const ins = n.inputs.map((x) => env.get(x)).filter((t): t is TensorType => t !== undefined);
      r.flops += evalDim(spec.flops(ins, n.types, n.attrs), sizes);
    }
    if (n.op !== 'reshape') for (const t of n.types) r.bytes += evalDim(numel(t.shape), sizes) * dtypeBytes[t.dtype];
  }

  // Rows: a layer's row (the sum of its blocks) before its blocks.
  const rows: SummaryRow[] = [];
  const layerRows = new Map<string, Raw>();
  const total: Raw = { params: 0, active: 0, flops: 0, bytes: 0 };
  const add = (into: Raw, r: Raw) => {
    into.params += r.params;
    into.active += r.active;
    into.flops += r.flops;
    into.bytes += r.bytes;
  };
  const order: [string, Raw, number][] = [];
  for (const [block, r] of raw) {
    add(total, r);
    const path = blockPath(block);
    if (path.length === 2) {
      let layer = layerRows.get(path[0]!);
      if (!layer) {
        layerRows.set(path[0]!, (layer = { params: 0, active: 0, flops: 0, bytes: 0 }));
        order.push([path[0]!, layer, 0]);
      }
      add(layer, r);
      order.push([block, r, 1]);
    } else {
      order.push([block, r, 0]);
    }
  }
  // A layer's blocks follow its row even when another block ran in between (an encoder's blocks are contiguous).
  const byLayer = new Map<string, [string, Raw, number][]>();
  for (const o of order) if (o[2] === 1) {
    const layer = blockPath(o[0])[0]!;
    byLayer.set(layer, [...(byLayer.get(layer) ?? []), o]);
  }
  for (const [block, r, depth] of order) {
    if (depth === 1) continue;
    rows.push({ block, depth, ...rounded(r, seq) });
    for (const [child, cr] of byLayer.get(block) ?? []) rows.push({ block: child, depth: 1, ...rounded(cr, seq) });
  }
  return { model: g.name, seq, rows, total: rounded(total, seq) };
}
