// Attention on the wasm target as two calls of the SIMD gemm per head: S = q·kᵀ into the thread's scratch (k packed
// into panels on the fly, rotated first when RoPE is fused), a row softmax in place (scale, bias, causal limit), then
// y = P·v with v packed the same way. Threads split the (batch, head) pairs. The loop-nest version streams the keys
// with an online softmax in O(q·dv) memory; here S takes q_len × k_len floats per thread, and the matmuls run at the
// gemm's speed instead of a scalar dot product per (query, key).
import { mulDims } from '../../compiler/ir/dims.ts';
import type { Dim } from '../../compiler/ir/types.ts';
import { add, bin, dim, div, f, fvar, i, ivar, letF, letI, load, loop, mul, set, size, store, sub, un } from '../../compiler/kernel/expr.ts';
import type { AttentionSpec, Expr, Kernel, Stmt } from '../../compiler/kernel/ir.ts';
import { ropeReader } from '../../compiler/kernel/ops/attention.ts';
import type { TensorizeOptions } from './tensorize.ts';

const S = '#scratch';
const addr = (buffer: string, index: Expr): Expr => ({ k: 'addr', buffer, index, type: 'i32' });
const min = (a: Expr, b: Expr): Expr => bin('min', a, b);

export function attentionKernel(k: Kernel, a: AttentionSpec, o: TensorizeOptions): Kernel {
  const NR = o.nr;
  const [Sq, H, D, Sk, Hk, Dv] = [a.qLen, a.heads, a.headDim, a.kLen, a.kvHeads, a.vDim].map(dim) as Expr[] as [Expr, Expr, Expr, Expr, Expr, Expr];
  const group = div(H, Hk);
  const [b, h, g, qi, j, d, n] = ['b', 'h', 'g', 'qi', 'j', 'd', 'n'].map(ivar) as [Expr, Expr, Expr, Expr, Expr, Expr, Expr];
  const rotated = a.rope ? ropeReader({ rope_rotary_dim: a.rope.rotaryDim, rope_interleaved: a.rope.interleaved }, a.rope.inv) : undefined;
  const qBase = (row: Expr) => mul(add(mul(add(mul(b, Sq), row), H), h), D);
  const kBase = (row: Expr) => mul(add(mul(add(mul(b, Sk), row), Hk), g), D);
  const vBase = (row: Expr) => mul(add(mul(add(mul(b, Sk), row), Hk), g), Dv);
  // Column panels of the score matrix and of the output (whole panels: the gemm writes NR columns at a time).
  const pk = div(add(Sk, i(NR - 1)), i(NR));
  const pv = div(add(Dv, i(NR - 1)), i(NR));
  const ldS = mul(ivar('pk'), i(NR));
  const direct = typeof a.vDim === 'number' && a.vDim % NR === 0;
  // Regions of the thread's scratch (f32 elements), after the gemm's packed rows.
  const qOff = i(o.gemmScratch);
  const kOff = a.rope ? add(qOff, mul(Sq, D)) : qOff;
  const vOff = add(kOff, mul(add(Sk, i(NR)), D));
  const sOff = add(vOff, mul(add(Dv, i(NR)), Sk));
  const oOff = add(sOff, mul(Sq, add(Sk, i(NR))));
  const scratch: Dim[] = [o.gemmScratch, mulDims(a.kLen, a.headDim), mulDims(NR, a.headDim), mulDims(a.vDim, a.kLen), mulDims(NR, a.kLen), mulDims(a.qLen, a.kLen), mulDims(NR, a.qLen)];
  if (a.rope) scratch.push(mulDims(a.qLen, a.headDim));
  if (!direct) scratch.push(mulDims(a.qLen, a.vDim), mulDims(NR, a.qLen));

  const body: Stmt[] = [
    letI('u', add(size('#u0'), ivar('uu'))),
    letI('b', div(ivar('u'), H)),
    letI('h', bin('%', ivar('u'), H)),
    letI('g', div(h, group)),
    letI('pk', pk),
    letI('pv', pv),
  ];
  // q rows of this head (rotated into the scratch when RoPE is fused; read in place otherwise).
  if (rotated) body.push(loop('qi', Sq, [loop('d', D, [store(S, add(qOff, add(mul(qi, D), d)), rotated(a.q, qBase(qi), qi, d))])]));
  // k as the gemm's weights [k_len, head_dim]: panel p holds keys p·NR … for every d; keys past k_len are zero.
  const kAt = (row: Expr, col: Expr) => add(kOff, add(mul(add(mul(div(row, i(NR)), D), col), i(NR)), bin('%', row, i(NR))));
  body.push(
    loop('j', Sk, [loop('d', D, [store(S, kAt(j, d), rotated ? rotated(a.k, kBase(j), j, d) : load(a.k, add(kBase(j), d)))])]),
    loop('j', sub(ldS, Sk), [loop('d', D, [store(S, kAt(add(Sk, j), d), f(0))])]),
  );
  // S = q · kᵀ
  body.push({
    k: 'call', fn: 'gemm',
    args: [rotated ? addr(S, qOff) : addr(a.q, qBase(i(0))), addr(S, kOff), addr(S, sOff), Sq, D, mul(rotated ? D : mul(H, D), i(4)), mul(ldS, i(4)), i(0), ivar('pk'), size('#scratch')],
  });
  // Row softmax of scale·S + bias over the keys a query sees; the rest of the row is zero for the second product.
  const sAt = (col: Expr) => add(sOff, add(mul(qi, ldS), col));
  let score: Expr = mul(load(S, sAt(j)), f(a.scale));
  if (a.bias) {
    const bs = a.biasShape!.map(dim);
    const bb = a.biasShape![0] === 1 ? i(0) : b;
    const bh = a.biasShape![1] === 1 ? i(0) : h;
    score = add(score, load(a.bias, add(mul(add(mul(add(mul(bb, bs[1]!), bh), bs[2]!), qi), bs[3]!), j)));
  }
  const keys = a.causal ? min(Sk, add(add(qi, sub(Sk, Sq)), i(1))) : Sk;
  body.push(loop('qi', Sq, [
    letI('keys', keys),
    letF('m', f(-Infinity)),
    loop('j', ivar('keys'), [letF('s', score), store(S, sAt(j), fvar('s')), set('m', bin('max', fvar('m'), fvar('s')))]),
    letF('l', f(0)),
    loop('j', ivar('keys'), [letF('p', un('exp', sub(load(S, sAt(j)), fvar('m')))), store(S, sAt(j), fvar('p')), set('l', add(fvar('l'), fvar('p')))]),
    letF('inv', div(f(1), fvar('l'))),
    loop('j', ivar('keys'), [store(S, sAt(j), mul(load(S, sAt(j)), fvar('inv')))]),
    loop('j', sub(Sk, ivar('keys')), [store(S, sAt(add(ivar('keys'), j)), f(0))]),
  ]));
  // v as the gemm's weights in the [k_len, v_dim] layout: panel p holds columns p·NR … for every key.
  const vAt = (row: Expr, col: Expr) => add(vOff, add(mul(add(mul(div(col, i(NR)), Sk), row), i(NR)), bin('%', col, i(NR))));
  body.push(
    loop('j', Sk, [loop('n', Dv, [store(S, vAt(j, n), load(a.v, add(vBase(j), n)))])]),
    loop('j', Sk, [loop('n', sub(mul(ivar('pv'), i(NR)), Dv), [store(S, vAt(j, add(Dv, n)), f(0))])]),
  );
  // y = P · v, straight into the output's head columns when v_dim is whole panels.
  const yBase = mul(add(mul(mul(b, Sq), H), h), Dv);
  body.push({
    k: 'call', fn: 'gemm',
    args: [addr(S, sOff), addr(S, vOff), direct ? addr(a.out, yBase) : addr(S, oOff), Sq, Sk, mul(ldS, i(4)), direct ? mul(mul(H, Dv), i(4)) : mul(mul(ivar('pv'), i(NR * 4)), i(1)), i(0), ivar('pv'), size('#scratch')],
  });
  if (!direct) body.push(loop('qi', Sq, [loop('n', Dv, [store(a.out, add(yBase, add(mul(qi, mul(H, Dv)), n)), load(S, add(oOff, add(mul(qi, mul(ivar('pv'), i(NR))), n))))])]));

  const reads = new Set([a.q, a.k, a.v, a.bias, a.rope?.inv].filter((x): x is string => x !== undefined));
  const { attention: _spec, ...rest } = k;
  void _spec;
  return {
    ...rest,
    buffers: k.buffers.filter((x) => reads.has(x.name) || x.name === a.out),
    body: [loop('uu', sub(size('#u1'), size('#u0')), body)],
    threads: { units: mulDims(a.batch, a.heads), scratch },
  };
}
