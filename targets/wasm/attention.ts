// Attention on the wasm target as two calls of the SIMD gemm per head: S = q·kᵀ into the thread's scratch (k packed
// into panels on the fly, rotated first when RoPE is fused), a row softmax in place (scale, bias, causal limit), then
// y = P·v with v packed the same way. Threads split the (batch, head) pairs. The loop-nest version streams the keys
// with an online softmax in O(q·dv) memory; here S takes q_len × k_len floats per thread, and the matmuls run at the
// gemm's speed instead of a scalar dot product per (query, key).
import { mulDims } from '../../compiler/ir/dims.ts';
import type { Dim } from '../../compiler/ir/types.ts';
import { add, bin, dim, div, f, fvar, i, ivar, letF, letI, load, loop, mul, select, set, size, store, sub, toF, un } from '../../compiler/kernel/expr.ts';
import type { AttentionSpec, Expr, Kernel, Stmt } from '../../compiler/kernel/ir.ts';
import type { TensorizeOptions } from './tensorize.ts';

const S = '#scratch';
/** Query rows per block of a causal attention (one gemm row block). */
const QB = 96;
const addr = (buffer: string, index: Expr): Expr => ({ k: 'addr', buffer, index, type: 'i32' });
const min = (a: Expr, b: Expr): Expr => bin('min', a, b);

export function attentionKernel(k: Kernel, a: AttentionSpec, o: TensorizeOptions): Kernel {
  const NR = o.nr;
  const [Sq, H, D, Sk, Hk, Dv] = [a.qLen, a.heads, a.headDim, a.kLen, a.kvHeads, a.vDim].map(dim) as Expr[] as [Expr, Expr, Expr, Expr, Expr, Expr];
  const group = div(H, Hk);
  const [b, h, g, qi, j, d, n] = ['b', 'h', 'g', 'qi', 'j', 'd', 'n'].map(ivar) as [Expr, Expr, Expr, Expr, Expr, Expr, Expr];
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
  const tOff = add(oOff, direct ? i(0) : mul(Sq, add(Dv, i(NR))));
  const rotated = a.rope ? ropeFromTable(a.rope, tOff) : undefined;
  const scratch: Dim[] = [o.gemmScratch, mulDims(a.kLen, a.headDim), mulDims(NR, a.headDim), mulDims(a.vDim, a.kLen), mulDims(NR, a.kLen), mulDims(a.qLen, a.kLen), mulDims(NR, a.qLen)];
  if (a.rope) scratch.push(mulDims(a.qLen, a.headDim));
  if (!direct) scratch.push(mulDims(a.qLen, a.vDim), mulDims(NR, a.qLen));
  if (a.rope) scratch.push(mulDims(a.qLen, a.rope.rotaryDim), mulDims(a.kLen, a.rope.rotaryDim));

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
  // v as the gemm's weights in the [k_len, v_dim] layout: panel p holds columns p·NR … for every key.
  const vAt = (row: Expr, col: Expr) => add(vOff, add(mul(add(mul(div(col, i(NR)), Sk), row), i(NR)), bin('%', col, i(NR))));
  body.push(
    loop('j', Sk, [loop('n', Dv, [store(S, vAt(j, n), load(a.v, add(vBase(j), n)))])]),
    loop('j', Sk, [loop('n', sub(mul(ivar('pv'), i(NR)), Dv), [store(S, vAt(j, add(Dv, n)), f(0))])]),
  );
  // Query blocks: a causal block [q0, q1) needs only the keys below q1 + (k_len - q_len), so both products skip the
  // masked upper triangle (about 40% of the work at 512 tokens).
  const q0 = ivar('q0');
  const rows = sub(ivar('q1'), q0);
  const block: Stmt[] = [
    letI('q0', mul(ivar('qb'), i(QB))),
    letI('q1', a.causal ? min(Sq, add(q0, i(QB))) : Sq),
    letI('kmax', a.causal ? min(Sk, add(ivar('q1'), sub(Sk, Sq))) : Sk),
  ];
  // S = q · kᵀ for the block's rows
  const qRow = rotated ? addr(S, add(qOff, mul(q0, D))) : addr(a.q, qBase(q0));
  block.push({
    k: 'call', fn: 'gemm',
    args: [qRow, addr(S, kOff), addr(S, add(sOff, mul(q0, ldS))), rows, D, D, mul(rotated ? D : mul(H, D), i(4)), mul(ldS, i(4)), i(0), div(add(ivar('kmax'), i(NR - 1)), i(NR)), size('#scratch')],
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
  block.push(loop('qq', rows, [
    letI('qi', add(q0, ivar('qq'))),
    letI('keys', keys),
    letF('m', f(-Infinity)),
    loop('j', ivar('keys'), [letF('s', score), store(S, sAt(j), fvar('s')), set('m', bin('max', fvar('m'), fvar('s')))]),
    letF('l', f(0)),
    loop('j', ivar('keys'), [letF('p', un('exp', sub(load(S, sAt(j)), fvar('m')))), store(S, sAt(j), fvar('p')), set('l', add(fvar('l'), fvar('p')))]),
    letF('inv', div(f(1), fvar('l'))),
    loop('j', ivar('keys'), [store(S, sAt(j), mul(load(S, sAt(j)), fvar('inv')))]),
    loop('j', sub(ivar('kmax'), ivar('keys')), [store(S, sAt(add(ivar('keys'), j)), f(0))]),
  ]));
  // y = P · v, straight into the output's head columns when v_dim is whole panels.
  const yBase = mul(add(mul(mul(b, Sq), H), h), Dv);
  const yRow = add(yBase, mul(q0, mul(H, Dv)));
  const oRow = add(oOff, mul(q0, mul(ivar('pv'), i(NR))));
  block.push({
    k: 'call', fn: 'gemm',
    args: [addr(S, add(sOff, mul(q0, ldS))), addr(S, vOff), direct ? addr(a.out, yRow) : addr(S, oRow), rows, ivar('kmax'), Sk, mul(ldS, i(4)), direct ? mul(mul(H, Dv), i(4)) : mul(ivar('pv'), i(NR * 4)), i(0), ivar('pv'), size('#scratch')],
  });
  if (!direct) block.push(loop('qq', rows, [loop('n', Dv, [store(a.out, add(yRow, add(mul(ivar('qq'), mul(H, Dv)), n)), load(S, add(oRow, add(mul(ivar('qq'), mul(ivar('pv'), i(NR))), n))))])]));
  const blocks = a.causal ? div(add(Sq, i(QB - 1)), i(QB)) : i(1);
  body.push(loop('qb', blocks, block));

  const reads = new Set([a.q, a.k, a.v, a.bias, a.rope?.inv].filter((x): x is string => x !== undefined));
  const { attention: _spec, ...rest } = k;
  void _spec;
  // cos and sin of every (position, frequency) once per call, not once per element and head.
  const prologue: Stmt[] = [];
  if (a.rope) {
    const half = a.rope.rotaryDim / 2;
    const angle = mul(toF(ivar('pos')), load(a.rope.inv, n));
    prologue.push(loop('pos', bin('max', Sq, Sk), [loop('n', i(half), [
      store(S, add(tOff, mul(add(mul(ivar('pos'), i(half)), n), i(2))), un('cos', angle)),
      store(S, add(tOff, add(mul(add(mul(ivar('pos'), i(half)), n), i(2)), i(1))), un('sin', angle)),
    ])]));
  }
  return {
    ...rest,
    buffers: k.buffers.filter((x) => reads.has(x.name) || x.name === a.out),
    body: [...prologue, loop('uu', sub(size('#u1'), size('#u0')), body)],
    threads: { units: mulDims(a.batch, a.heads), scratch, work: mulDims(a.batch, a.heads, a.qLen, a.kLen, a.headDim, 2) },
  };
}

/**
 * Element d of a head at `base`, rotated for position `pos` with cos/sin from a table in the scratch ([pos][n][cos, sin]):
 * the pairs (d, d ± r/2) for halves or (d, d ^ 1) interleaved, as the rope op; dimensions ≥ r pass through.
 */
function ropeFromTable(rope: NonNullable<AttentionSpec['rope']>, table: Expr) {
  const r = rope.rotaryDim;
  const half = r / 2;
  return (buffer: string, base: Expr, pos: Expr, d: Expr): Expr => {
    const n = rope.interleaved ? div(d, i(2)) : select(bin('<', d, i(half)), d, sub(d, i(half)));
    const first = rope.interleaved ? bin('==', bin('%', d, i(2)), i(0)) : bin('<', d, i(half));
    const partner = rope.interleaved ? select(first, add(d, i(1)), sub(d, i(1))) : select(first, add(d, i(half)), sub(d, i(half)));
    // (Clamped: select evaluates both sides, and past the rotary part the table has no entry.)
    const at = add(table, mul(add(mul(pos, i(half)), bin('min', n, i(half - 1))), i(2)));
    const cos = load(S, at);
    const sin = load(S, add(at, i(1)));
    const x = load(buffer, add(base, d));
    const y = load(buffer, add(base, select(bin('<', d, i(r)), partner, d)));
    return select(bin('<', d, i(r)), select(first, sub(mul(x, cos), mul(y, sin)), add(mul(x, cos), mul(y, sin))), x);
  };
}
