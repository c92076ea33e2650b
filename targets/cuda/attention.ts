// Attention on CUDA as one fused kernel, the schedule of the WGSL one (targets/wgsl/attention.ts; FlashAttention,
// Dao et al. 2022): a block of 64 threads (two warps) takes QB queries of one (batch, head) into shared memory and
// walks the keys in tiles of 64 — one key per thread for the scores, an online softmax per query row whose maxima and
// sums are warp shuffles plus one exchange between the two warps, then P·V accumulated in registers per thread's
// value columns. RoPE, the bias and the causal limit are the loop nest's kernel-IR expressions rendered in place.
import Handlebars from 'handlebars';
import { add, bin, dim, div, i, ivar, load, mul } from '../../compiler/kernel/expr.ts';
import type { AttentionSpec, Expr, Kernel } from '../../compiler/kernel/ir.ts';
import { ropeReader } from '../../compiler/kernel/ops/attention.ts';
import { cStyleRenderer } from '../../codegen/c-style.ts';
import { attentionTemplate } from './attention-template.ts';
import { bufferParam, kernelComment, type CudaFunction } from './render.ts';
import { cudaFloat, cudaSpelling } from './spelling.ts';

const template = Handlebars.compile(attentionTemplate, { noEscape: true, strict: true });
/** Keys per tile: one per thread of the block. */
const KB = 64;

/** Whether the fused kernel takes this attention: head sizes known at compile time (they size the registers). */
export function fusable(a: AttentionSpec): boolean {
  return typeof a.headDim === 'number' && typeof a.vDim === 'number' && a.headDim <= 256 && a.vDim <= 256;
}

export function renderAttention(k: Kernel, a: AttentionSpec, sizes: string[], entry = k.name): CudaFunction {
  const r = cStyleRenderer(k, sizes, cudaSpelling);
  const D = a.headDim as number;
  const DV = a.vDim as number;
  // Queries per block: their rows, a tile of probabilities and the accumulators stay small (16 × 128 floats of Q).
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
  const code = template({
    entry, params: k.buffers.map((x) => bufferParam(x, r.bufferId.get(x.name)!)),
    D, DV, QB, KB, NC: Math.ceil(DV / KB),
    Sq: r.expr(Sq), H: r.expr(H), Sk: r.expr(Sk), group: r.expr(div(H, Hk)),
    scale: cudaFloat(a.scale), causal: a.causal, bias,
    qRead: r.expr(read(a.q, qBase(qc), qc)),
    kRead: r.expr(read(a.k, kBase(jc), jc)),
    vRead: r.expr(load(a.v, add(vBase(jc), bin('min', ivar('n'), i(DV - 1))))),
    out: r.bufferId.get(a.out)!,
  });
  const launch = { grid: [div(add(Sq, i(QB - 1)), i(QB)), H, dim(a.batch)], block: [KB, 1, 1] };
  return { kernel: k.name, comment: kernelComment(k, `${k.ops.join(', ')} as one fused kernel`), code, launch };
}
