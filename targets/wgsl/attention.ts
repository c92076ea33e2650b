// Attention on WebGPU as one fused kernel (FlashAttention's schedule, Dao et al. 2022): a workgroup of 64 invocations
// takes QB queries of one (batch, head), keeps them in workgroup memory, and walks the keys in tiles of 64 — one key
// per invocation for the scores, an online softmax per query row (running max m, sum l, rescaled as m grows), then
// each invocation accumulates P·V for its value columns in registers. Scores never leave the workgroup, and each
// key and value row is read once per QB queries instead of once per query. RoPE, the bias and the causal limit are
// the loop nest's own kernel-IR expressions, rendered in place, so the semantics stay the loop nest's.
import Handlebars from 'handlebars';
import { add, bin, dim, div, i, ivar, load, mul } from '../../compiler/kernel/expr.ts';
import type { AttentionSpec, Expr, Kernel } from '../../compiler/kernel/ir.ts';
import { ropeReader } from '../../compiler/kernel/ops/attention.ts';
import { exprRenderer, type HalfWeights, type WgslKernel } from './render.ts';
import { attentionTemplate } from './templates.ts';

const template = Handlebars.compile(attentionTemplate, { noEscape: true, strict: true });
/** Keys per tile: one per invocation. */
const KB = 64;

/** Whether the fused kernel takes this attention: head sizes known at compile time (they size the registers). */
export function fusable(a: AttentionSpec): boolean {
  return typeof a.headDim === 'number' && typeof a.vDim === 'number' && a.headDim <= 256 && a.vDim <= 256;
}

export function renderAttention(k: Kernel, a: AttentionSpec, sizes: string[], options: { subgroups: boolean; half?: HalfWeights }): WgslKernel {
  const r = exprRenderer(k, sizes, options.half);
  const id = (name: string) => r.bufferId.get(name)!;
  const D = a.headDim as number;
  const DV = a.vDim as number;
  // Queries per workgroup: their rows and one tile of scores fit WebGPU's default 16 KiB of workgroup memory.
  const QB = D <= 128 ? 16 : 8;
  const [Sq, H, Sk, Hk] = [a.qLen, a.heads, a.kLen, a.kvHeads].map(dim) as [Expr, Expr, Expr, Expr];
  const [b, h, g, d] = ['b', 'h', 'g', 'd'].map(ivar) as [Expr, Expr, Expr, Expr];
  const qBase = (row: Expr) => mul(add(mul(add(mul(b, Sq), row), H), h), i(D));
  const kBase = (row: Expr) => mul(add(mul(add(mul(b, Sk), row), Hk), g), i(D));
  const vBase = (row: Expr) => mul(add(mul(add(mul(b, Sk), row), Hk), g), i(DV));
  const rotated = a.rope ? ropeReader({ rope_rotary_dim: a.rope.rotaryDim, rope_interleaved: a.rope.interleaved }, a.rope.inv) : undefined;
  const read = (buffer: string, base: Expr, pos: Expr) => (rotated ? rotated(buffer, base, pos, d) : load(buffer, add(base, d)));
  // (Clamped rows: a query or key past the end is read in bounds and masked.)
  const qc = ivar('qc');
  const jc = ivar('jc');
  let bias = '';
  if (a.bias) {
    const bs = a.biasShape!.map(dim);
    const bb = a.biasShape![0] === 1 ? i(0) : b;
    const bh = a.biasShape![1] === 1 ? i(0) : h;
    bias = r.expr(load(a.bias, add(mul(add(mul(add(mul(bb, bs[1]!), bh), bs[2]!), qc), bs[3]!), jc)));
  }
  const reads = {
    qRead: r.expr(read(a.q, qBase(qc), qc)),
    kRead: r.expr(read(a.k, kBase(jc), jc)),
    vRead: r.expr(load(a.v, add(vBase(jc), bin('min', ivar('n'), i(DV - 1))))),
  };
  const code = template({
    ...reads,
    ...r.header(),
    name: k.name, loc: k.loc ?? '', ops: k.ops.join(', '), subgroups: options.subgroups,
    D, DV, QB, KB, NC: Math.ceil(DV / KB),
    Sq: r.expr(Sq), H: r.expr(H), Sk: r.expr(Sk), Hk: r.expr(Hk), group: r.expr(div(H, Hk)),
    scale: r.expr({ k: 'const', value: a.scale, type: 'f32' }),
    causal: a.causal,
    bias,
    out: id(a.out),
  });
  return { name: k.name, code, grid: [], dispatch: [div(add(Sq, i(QB - 1)), i(QB)), H, dim(a.batch)] };
}
