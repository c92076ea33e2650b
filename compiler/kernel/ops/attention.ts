// Attention, RoPE and T5's relative position bias as loop nests.
import { evalDim, mulDims } from '../../ir/dims.ts';
import { add, bin, dim, div, f, fvar, i, ivar, letF, letI, load, loop, mul, par, select, set, store, sub, toF, toI, un } from '../expr.ts';
import type { Expr } from '../ir.ts';
import type { OpLowering } from './context.ts';

/** HF's float32 RoPE inverse frequencies 1 / theta^(2n / r), as a compile-time table. */
function inverseFrequencies(attrs: Record<string, unknown>, constant: (dtype: 'f32', data: number[]) => string, prefix = ''): string {
  const r = attrs[`${prefix}rotary_dim`] as number;
  const fr = Math.fround;
  return constant('f32', Array.from({ length: r / 2 }, (_, n) => fr(1 / fr((attrs[`${prefix}theta`] as number) ** fr((2 * n) / r)))));
}

/**
 * Reads element d of a head starting at `base`, rotated for position `pos` (rope_* attributes of a fused attention):
 * the rotation pairs (d, d ± r/2) for halves or (d, d ^ 1) for interleaved pairs; dimensions ≥ r pass through.
 */
export function ropeReader(attrs: Record<string, unknown>, inv: string) {
  const r = attrs.rope_rotary_dim as number;
  const half = r / 2;
  const interleaved = attrs.rope_interleaved === true;
  return (buffer: string, base: Expr, pos: Expr, d: Expr): Expr => {
    const n = interleaved ? div(d, i(2)) : select(bin('<', d, i(half)), d, sub(d, i(half)));
    const first = interleaved ? bin('==', bin('%', d, i(2)), i(0)) : bin('<', d, i(half));
    const partner = interleaved ? select(first, add(d, i(1)), sub(d, i(1))) : select(first, add(d, i(half)), sub(d, i(half)));
    const angle = mul(toF(pos), load(inv, n));
    const x = load(buffer, add(base, d));
    const y = load(buffer, add(base, select(bin('<', d, i(r)), partner, d)));
    const rot = select(first, sub(mul(x, un('cos', angle)), mul(y, un('sin', angle))), add(mul(x, un('cos', angle)), mul(y, un('sin', angle))));
    return select(bin('<', d, i(r)), rot, x);
  };
}

export const attentionOps: Record<string, OpLowering> = {
  // softmax(scale·q·kᵀ + bias [+ causal mask]) · v in one pass over the keys with an online softmax (Milakov &
  // Gimelshein 2018; FlashAttention): a running maximum m, sum l and output accumulator rescaled as m grows, so
  // memory is O(q_len · dv) instead of O(q_len · k_len). With `rope` attributes, q and k are rotated as they are read.
  attention: ({ ins, outs, attrs, scratch, constant, attention }) => {
    const [q, k, v, bias] = ins;
    const [B, Sq, H, D] = q!.shape.map(dim) as [Expr, Expr, Expr, Expr];
    const Sk = dim(k!.shape[1]!);
    const Hk = dim(k!.shape[2]!);
    const Dv = dim(v!.shape[3]!);
    const group = evalDim(q!.shape[2]!, {}) / evalDim(k!.shape[2]!, {});
    const acc = scratch('f32', mulDims(q!.shape[0]!, q!.shape[1]!, q!.shape[2]!, v!.shape[3]!));
    const [b, h, qi, j, d] = ['b', 'h', 'qi', 'j', 'd'].map(ivar) as [Expr, Expr, Expr, Expr, Expr];
    const hk = div(h, i(group));
    const qBase = mul(add(mul(add(mul(b, Sq), qi), H), h), D);
    const kBase = mul(add(mul(add(mul(b, Sk), j), Hk), hk), D);
    const accAt = (x: Expr) => add(mul(add(mul(add(mul(b, Sq), qi), H), h), Dv), x);
    const inv = attrs.rope_theta === undefined ? undefined : inverseFrequencies(attrs, constant, 'rope_');
    const rotated = inv ? ropeReader(attrs, inv) : undefined;
    attention({
      q: q!.buffer, k: k!.buffer, v: v!.buffer, out: outs[0]!.buffer, ...(bias ? { bias: bias.buffer, biasShape: bias.shape } : {}),
      batch: q!.shape[0]!, qLen: q!.shape[1]!, heads: q!.shape[2]!, headDim: q!.shape[3]!, kLen: k!.shape[1]!, kvHeads: k!.shape[2]!, vDim: v!.shape[3]!,
      causal: attrs.causal === true, scale: attrs.scale as number,
      ...(inv ? { rope: { inv, rotaryDim: attrs.rope_rotary_dim as number, interleaved: attrs.rope_interleaved === true } } : {}),
    });
    const qd = rotated ? rotated(q!.buffer, qBase, qi, d) : load(q!.buffer, add(qBase, d));
    const kd = rotated ? rotated(k!.buffer, kBase, j, d) : load(k!.buffer, add(kBase, d));
    const biasAt = (): Expr => {
      const bs = bias!.shape.map(dim);
      const bb = bias!.shape[0] === 1 ? i(0) : b;
      const bh = bias!.shape[1] === 1 ? i(0) : h;
      return add(mul(add(mul(add(mul(bb, bs[1]!), bh), bs[2]!), qi), bs[3]!), j);
    };
    let score: Expr = mul(fvar('dot'), f(attrs.scale as number));
    if (bias) score = add(score, load(bias.buffer, biasAt()));
    // A causal query sees keys j ≤ i + (k_len - q_len).
    const keys = attrs.causal === true ? bin('min', Sk, add(add(qi, sub(Sk, Sq)), i(1))) : Sk;
    return [par('b', B, [par('h', H, [par('qi', Sq, [
      letF('m', f(-Infinity)),
      letF('l', f(0)),
      loop('d', Dv, [store(acc, accAt(d), f(0))]),
      loop('j', keys, [
        letF('dot', f(0)),
        loop('d', D, [set('dot', add(fvar('dot'), mul(qd, kd)))]),
        letF('s', score),
        letF('mNew', bin('max', fvar('m'), fvar('s'))),
        letF('rescale', un('exp', sub(fvar('m'), fvar('mNew')))),
        letF('p', un('exp', sub(fvar('s'), fvar('mNew')))),
        set('l', add(mul(fvar('l'), fvar('rescale')), fvar('p'))),
        loop('d', Dv, [store(acc, accAt(d), add(mul(load(acc, accAt(d)), fvar('rescale')), mul(fvar('p'), load(v!.buffer, add(mul(add(mul(add(mul(b, Sk), j), Hk), hk), Dv), d)))))]),
        set('m', fvar('mNew')),
      ]),
      loop('d', Dv, [store(outs[0]!.buffer, accAt(d), div(load(acc, accAt(d)), fvar('l')))]),
    ])])])];
  },
  // RoPE (Su et al. 2021) with Hugging Face's float32 inverse frequencies, as a compile-time table.
  rope: ({ ins, outs, attrs, constant }) => {
    const x = ins[0]!;
    const [B, S, H, D] = x.shape.map(dim) as [Expr, Expr, Expr, Expr];
    const r = attrs.rotary_dim as number;
    const half = r / 2;
    const inv = inverseFrequencies(attrs, constant);
    const interleaved = attrs.interleaved === true;
    const [b, s, h, d, n] = ['b', 's', 'h', 'd', 'n'].map(ivar) as [Expr, Expr, Expr, Expr, Expr];
    const base = mul(add(mul(add(mul(b, S), s), H), h), D);
    const ia = add(base, interleaved ? mul(n, i(2)) : n);
    const ib = add(base, interleaved ? add(mul(n, i(2)), i(1)) : add(n, i(half)));
    return [par('b', B, [par('s', S, [par('h', H, [
      loop('d', D, [store(outs[0]!.buffer, add(base, d), load(x.buffer, add(base, d)))]),
      loop('n', i(half), [
        letF('angle', mul(toF(s), load(inv, n))),
        letF('c', un('cos', fvar('angle'))),
        letF('sn', un('sin', fvar('angle'))),
        letF('xa', load(x.buffer, ia)),
        letF('xb', load(x.buffer, ib)),
        store(outs[0]!.buffer, ia, sub(mul(fvar('xa'), fvar('c')), mul(fvar('xb'), fvar('sn')))),
        store(outs[0]!.buffer, ib, add(mul(fvar('xb'), fvar('c')), mul(fvar('xa'), fvar('sn')))),
      ]),
    ])])])];
  },
  // T5's relative position bucket (Raffel et al. 2020) per (query, key), looked up in the [buckets, heads] table.
  relative_bias: ({ ins, outs, attrs }) => {
    const table = ins[0]!;
    const [buckets, H] = table.shape.map((x) => evalDim(x, {})) as [number, number];
    const out = outs[0]!;
    const Q = dim(out.shape[2]!);
    const K = dim(out.shape[3]!);
    const bidirectional = attrs.bidirectional === true;
    const nb = bidirectional ? Math.floor(buckets / 2) : buckets;
    const maxExact = Math.floor(nb / 2);
    const maxDistance = attrs.max_distance as number;
    const [qi, kj, h] = ['qi', 'kj', 'h'].map(ivar) as [Expr, Expr, Expr];
    const rel = sub(kj, qi);
    const n = ivar('n');
    const large = add(i(maxExact), toI(mul(div(un('log', div(toF(n), f(maxExact))), f(Math.fround(Math.log(maxDistance / maxExact)))), f(nb - maxExact))));
    return [par('qi', Q, [par('kj', K, [
      letI('n', bidirectional ? select(bin('<', rel, i(0)), sub(i(0), rel), rel) : select(bin('<', rel, i(0)), sub(i(0), rel), i(0))),
      letI('bucket', add(bidirectional ? select(bin('<', i(0), rel), i(nb), i(0)) : i(0), select(bin('<', n, i(maxExact)), n, bin('min', large, i(nb - 1))))),
      par('h', i(H), [store(out.buffer, add(mul(add(mul(h, Q), qi), K), kj), load(table.buffer, add(mul(ivar('bucket'), i(H)), h)))]),
    ])])];
  },
};
