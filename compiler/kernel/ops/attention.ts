// Attention, RoPE and T5's relative position bias as loop nests.
import { evalDim, mulDims } from '../../ir/dims.ts';
import { add, bin, dim, div, f, fvar, i, ivar, letF, letI, load, loop, mul, par, select, set, store, sub, toF, toI, un } from '../expr.ts';
import type { Expr } from '../ir.ts';
import type { OpLowering } from './context.ts';

export const attentionOps: Record<string, OpLowering> = {
  // softmax(scale·q·kᵀ + bias [+ causal mask]) · v, [batch, len, heads, dim] layout, query head h reads kv head h / group.
  attention: ({ ins, outs, attrs, scratch }) => {
    const [q, k, v, bias] = ins;
    const [B, Sq, H, D] = q!.shape.map(dim) as [Expr, Expr, Expr, Expr];
    const Sk = dim(k!.shape[1]!);
    const Hk = dim(k!.shape[2]!);
    const Dv = dim(v!.shape[3]!);
    const group = evalDim(q!.shape[2]!, {}) / evalDim(k!.shape[2]!, {});
    const scores = scratch('f32', mulDims(q!.shape[0]!, q!.shape[1]!, q!.shape[2]!, k!.shape[1]!));
    const [b, h, qi, j, d] = ['b', 'h', 'qi', 'j', 'd'].map(ivar) as [Expr, Expr, Expr, Expr, Expr];
    const hk = div(h, i(group));
    const row = add(mul(add(mul(add(mul(b, Sq), qi), H), h), Sk), i(0));
    const biasAt = (): Expr => {
      const bs = bias!.shape.map(dim);
      const bb = bias!.shape[0] === 1 ? i(0) : b;
      const bh = bias!.shape[1] === 1 ? i(0) : h;
      return add(mul(add(mul(add(mul(bb, bs[1]!), bh), bs[2]!), qi), bs[3]!), j);
    };
    let score: Expr = mul(fvar('dot'), f(attrs.scale as number));
    if (bias) score = add(score, load(bias.buffer, biasAt()));
    // A causal query sees keys j ≤ i + (k_len - q_len).
    const visible = attrs.causal === true ? bin('<=', j, add(qi, sub(Sk, Sq))) : undefined;
    const masked = visible ? select(visible, score, f(-Infinity)) : score;
    return [par('b', B, [par('h', H, [par('qi', Sq, [
      letF('mx', f(-Infinity)),
      loop('j', Sk, [
        letF('dot', f(0)),
        loop('d', D, [set('dot', add(fvar('dot'), mul(load(q!.buffer, add(mul(add(mul(add(mul(b, Sq), qi), H), h), D), d)), load(k!.buffer, add(mul(add(mul(add(mul(b, Sk), j), Hk), hk), D), d)))))]),
        letF('s', masked),
        store(scores, add(row, j), fvar('s')),
        set('mx', bin('max', fvar('mx'), fvar('s'))),
      ]),
      letF('sum', f(0)),
      loop('j', Sk, [letF('p', un('exp', sub(load(scores, add(row, j)), fvar('mx')))), store(scores, add(row, j), fvar('p')), set('sum', add(fvar('sum'), fvar('p')))]),
      loop('d', Dv, [
        letF('acc', f(0)),
        loop('j', Sk, [set('acc', add(fvar('acc'), mul(load(scores, add(row, j)), load(v!.buffer, add(mul(add(mul(add(mul(b, Sk), j), Hk), hk), Dv), d)))))]),
        store(outs[0]!.buffer, add(mul(add(mul(add(mul(b, Sq), qi), H), h), Dv), d), div(fvar('acc'), fvar('sum'))),
      ]),
    ])])])];
  },
  // RoPE (Su et al. 2021) with Hugging Face's float32 inverse frequencies, as a compile-time table.
  rope: ({ ins, outs, attrs, constant }) => {
    const x = ins[0]!;
    const [B, S, H, D] = x.shape.map(dim) as [Expr, Expr, Expr, Expr];
    const r = attrs.rotary_dim as number;
    const half = r / 2;
    const fr = Math.fround;
    const inv = constant('f32', Array.from({ length: half }, (_, n) => fr(1 / fr((attrs.theta as number) ** fr((2 * n) / r)))));
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
