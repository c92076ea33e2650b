// What every GPU target's fused attention shares (targets/wgsl/attention.ts, targets/cuda/attention.ts): the tile
// sizes, and the reads of q, k, v and the bias as kernel-IR expressions — RoPE applied as the loop nest applies it —
// in terms of the locals the templates define: b, h (the block's batch and head), g (its kv head), d (a head
// dimension), qc / jc (a query / key row, clamped in bounds), n (a value column).
import { add, bin, dim, div, i, ivar, load, mul } from '../compiler/kernel/expr.ts';
import type { AttentionSpec, Expr } from '../compiler/kernel/ir.ts';
import { ropeReader } from '../compiler/kernel/ops/attention.ts';

/** Keys per tile: one per thread (invocation) of the block. */
export const keysPerTile = 64;

/** Whether the fused kernel takes this attention: head sizes known at compile time (they size the registers). */
export function fusable(a: AttentionSpec): boolean {
  return typeof a.headDim === 'number' && typeof a.vDim === 'number' && a.headDim <= 256 && a.vDim <= 256;
}

export interface AttentionPlan {
  D: number;
  DV: number;
  /** Queries per block: 16, or 8 for heads over 128 (their rows and a tile of scores stay within 16 KiB). */
  QB: number;
  KB: number;
  /** Value columns per thread. */
  NC: number;
  Sq: Expr;
  H: Expr;
  Sk: Expr;
  group: Expr;
  qRead: Expr;
  kRead: Expr;
  vRead: Expr;
  bias?: Expr;
  /** Blocks: query blocks × heads × batch. */
  grid: Expr[];
}

export function attentionPlan(a: AttentionSpec): AttentionPlan {
  const D = a.headDim as number;
  const DV = a.vDim as number;
  const QB = D <= 128 ? 16 : 8;
  const [Sq, H, Sk, Hk] = [a.qLen, a.heads, a.kLen, a.kvHeads].map(dim) as [Expr, Expr, Expr, Expr];
  const [b, h, g, d, qc, jc] = ['b', 'h', 'g', 'd', 'qc', 'jc'].map(ivar) as [Expr, Expr, Expr, Expr, Expr, Expr];
  const qBase = mul(add(mul(add(mul(b, Sq), qc), H), h), i(D));
  const kBase = mul(add(mul(add(mul(b, Sk), jc), Hk), g), i(D));
  const vBase = mul(add(mul(add(mul(b, Sk), jc), Hk), g), i(DV));
  const rotated = a.rope ? ropeReader({ rope_rotary_dim: a.rope.rotaryDim, rope_interleaved: a.rope.interleaved }, a.rope.inv) : undefined;
  const read = (buffer: string, base: Expr, pos: Expr) => (rotated ? rotated(buffer, base, pos, d) : load(buffer, add(base, d)));
  let bias: Expr | undefined;
  if (a.bias) {
    const bs = a.biasShape!.map(dim);
    const bb = a.biasShape![0] === 1 ? i(0) : b;
    const bh = a.biasShape![1] === 1 ? i(0) : h;
    bias = load(a.bias, add(mul(add(mul(add(mul(bb, bs[1]!), bh), bs[2]!), qc), bs[3]!), jc));
  }
  return {
    D, DV, QB, KB: keysPerTile, NC: Math.ceil(DV / keysPerTile), Sq, H, Sk, group: div(H, Hk),
    qRead: read(a.q, qBase, qc),
    kRead: read(a.k, kBase, jc),
    vRead: load(a.v, add(vBase, bin('min', ivar('n'), i(DV - 1)))),
    ...(bias ? { bias } : {}),
    grid: [div(add(Sq, i(QB - 1)), i(QB)), H, dim(a.batch)],
  };
}
