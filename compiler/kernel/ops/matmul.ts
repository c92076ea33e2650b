// Matrix products as loop nests: a parallel grid over the result, a serial reduction over the inner dimension.
// (Targets tile and vectorise these loops; the loop nest states what is computed.)
import { add, dim, f, fvar, i, ivar, letF, load, loadI, loop, mul, par, product, set, store } from '../expr.ts';
import type { Expr, GemmSpec, Stmt } from '../ir.ts';
import type { OpContext, OpLowering } from './context.ts';
import { activationFns } from './elementwise.ts';


/** The epilogue activation of a fused matmul (the same functions as the elementwise ops). */
export function epilogue(act: unknown, y: Expr): Expr {
  if (act === undefined) return y;
  const fn = activationFns[act as string];
  if (!fn) throw new Error(`unknown epilogue activation '${String(act)}'`);
  return fn(y);
}

/** Σ_k x[r, k] · w[o, k] into the local `acc` (+ b[o]). */
function accumulate(acc: string, x: string, w: string, r: Expr, o: Expr, K: Expr, wOffset: Expr, bias?: Expr): Stmt[] {
  return [
    letF(acc, bias ?? f(0)),
    loop('k', K, [set(acc, add(fvar(acc), mul(load(x, add(mul(r, K), ivar('k'))), load(w, add(wOffset, add(mul(o, K), ivar('k')))))))]),
  ];
}

/** y[r, o] = act(Σ_k x[r, k] · w[o, k] (+ b[o])) (+ residual[r, o]). */
function dot(x: string, w: string, out: string, r: Expr, o: Expr, K: Expr, N: Expr, wOffset: Expr, bias?: Expr, act?: unknown, residual?: string): Stmt[] {
  const y = epilogue(act, fvar('acc'));
  return [...accumulate('acc', x, w, r, o, K, wOffset, bias), store(out, add(mul(r, N), o), residual ? add(y, load(residual, add(mul(r, N), o))) : y)];
}

/** act(x · wgᵀ) ⊙ (x · wuᵀ) with both accumulators in one pass over x. */
function gatedDot(x: string, wg: string, wu: string, out: string, r: Expr, o: Expr, K: Expr, N: Expr, wOffset: Expr, act: unknown): Stmt[] {
  const xk = load(x, add(mul(r, K), ivar('k')));
  const wAt = add(wOffset, add(mul(o, K), ivar('k')));
  return [
    letF('g', f(0)),
    letF('u', f(0)),
    loop('k', K, [letF('xk', xk), set('g', add(fvar('g'), mul(fvar('xk'), load(wg, wAt)))), set('u', add(fvar('u'), mul(fvar('xk'), load(wu, wAt))))]),
    store(out, add(mul(r, N), o), mul(epilogue(act, fvar('g')), fvar('u'))),
  ];
}

/** Describes the product for targets with a tiled matmul, when the weight's dimensions are static. */
function describe(ctx: OpContext, spec: Omit<GemmSpec, 'N' | 'K' | 'rows'>, rows: Expr): void {
  const shape = ctx.ins.find((o) => o.buffer === spec.weights[0])!.shape;
  const [N, K] = shape.slice(-2);
  if (typeof N !== 'number' || typeof K !== 'number') return;
  if (ctx.ins.some((o) => o.dtype !== 'f32' && o.dtype !== 'i32') || ctx.outs[0]!.dtype !== 'f32') return;
  ctx.gemm({ ...spec, N, K, rows });
}

const act = (attrs: Record<string, unknown>) => (attrs.act === undefined ? {} : { act: String(attrs.act) });

export const matmulOps: Record<string, OpLowering> = {
  linear: (ctx) => {
    const { ins, outs, attrs } = ctx;
    const [x, w, b] = ins;
    const [N, K] = w!.shape.map(dim) as [Expr, Expr];
    const rows = product(x!.shape.slice(0, -1));
    describe(ctx, { x: x!.buffer, weights: [w!.buffer], out: outs[0]!.buffer, ...(b ? { bias: b.buffer } : {}), ...act(attrs) }, rows);
    return [par('r', rows, [par('n', N, dot(x!.buffer, w!.buffer, outs[0]!.buffer, ivar('r'), ivar('n'), K, N, i(0), b ? load(b.buffer, ivar('n')) : undefined, attrs.act))])];
  },
  linear_add: (ctx) => {
    const { ins, outs } = ctx;
    const [x, w, r] = ins;
    const [N, K] = w!.shape.map(dim) as [Expr, Expr];
    describe(ctx, { x: x!.buffer, weights: [w!.buffer], out: outs[0]!.buffer, residual: r!.buffer }, product(x!.shape.slice(0, -1)));
    return [par('r', product(x!.shape.slice(0, -1)), [par('n', N, dot(x!.buffer, w!.buffer, outs[0]!.buffer, ivar('r'), ivar('n'), K, N, i(0), undefined, undefined, r!.buffer))])];
  },
  gated_linear: (ctx) => {
    const { ins, outs, attrs } = ctx;
    const [x, wg, wu] = ins;
    const [N, K] = wg!.shape.map(dim) as [Expr, Expr];
    describe(ctx, { x: x!.buffer, weights: [wg!.buffer, wu!.buffer], out: outs[0]!.buffer, ...act(attrs) }, product(x!.shape.slice(0, -1)));
    return [par('r', product(x!.shape.slice(0, -1)), [par('n', N, gatedDot(x!.buffer, wg!.buffer, wu!.buffer, outs[0]!.buffer, ivar('r'), ivar('n'), K, N, i(0), attrs.act))])];
  },
  gated_grouped_linear: (ctx) => {
    const { ins, outs, attrs } = ctx;
    const [rows, wg, wu, offsets] = ins;
    const [E, N, K] = wg!.shape.map(dim) as [Expr, Expr, Expr];
    if (typeof wg!.shape[0] === 'number') describe(ctx, { x: rows!.buffer, weights: [wg!.buffer, wu!.buffer], out: outs[0]!.buffer, offsets: offsets!.buffer, experts: wg!.shape[0], ...act(attrs) }, dim(rows!.shape[0]!));
    const e = ivar('e');
    return [par('e', E, [loop('r', { k: 'bin', op: '-', a: loadI(offsets!.buffer, add(e, i(1))), b: loadI(offsets!.buffer, e), type: 'i32' }, [
      par('n', N, gatedDot(rows!.buffer, wg!.buffer, wu!.buffer, outs[0]!.buffer, add(loadI(offsets!.buffer, e), ivar('r')), ivar('n'), K, N, mul(e, mul(N, K)), attrs.act)),
    ], true)])];
  },
  embedding: ({ ins, outs }) => {
    const [ids, table] = ins;
    const D = dim(table!.shape[1]!);
    return [par('t', product(ids!.shape), [par('d', D, [store(outs[0]!.buffer, add(mul(ivar('t'), D), ivar('d')), load(table!.buffer, add(mul(loadI(ids!.buffer, ivar('t')), D), ivar('d'))))])])];
  },
  matmul: ({ ins, outs, attrs }) => {
    const [a, b] = ins;
    const y = outs[0]!;
    const tb = attrs.transpose_b === true;
    const [M, K] = a!.shape.slice(-2).map(dim) as [Expr, Expr];
    const N = dim(y.shape[y.shape.length - 1]!);
    const batch = product(y.shape.slice(0, -2));
    const aBatched = a!.shape.length > 2 && product(a!.shape.slice(0, -2));
    const bBatched = b!.shape.length > 2 && product(b!.shape.slice(0, -2));
    const p = ivar('p');
    const aAt = (m: Expr, k: Expr) => add(mul(aBatched ? p : i(0), mul(M, K)), add(mul(m, K), k));
    const bAt = (k: Expr, n: Expr) => add(mul(bBatched ? p : i(0), mul(K, N)), tb ? add(mul(n, K), k) : add(mul(k, N), n));
    return [par('p', batch, [par('m', M, [par('n', N, [
      letF('acc', f(0)),
      loop('k', K, [set('acc', add(fvar('acc'), mul(load(a!.buffer, aAt(ivar('m'), ivar('k'))), load(b!.buffer, bAt(ivar('k'), ivar('n'))))))]),
      store(y.buffer, add(mul(add(mul(p, M), ivar('m')), N), ivar('n')), fvar('acc')),
    ])])])];
  },
  // One grouped matmul over all experts: expert e owns rows offsets[e] … offsets[e+1]-1 and multiplies them by w[e]ᵀ.
  grouped_linear: (ctx) => {
    const { ins, outs, attrs } = ctx;
    const [rows, w, offsets, b] = ins;
    const [E, N, K] = w!.shape.map(dim) as [Expr, Expr, Expr];
    if (typeof w!.shape[0] === 'number') describe(ctx, { x: rows!.buffer, weights: [w!.buffer], out: outs[0]!.buffer, offsets: offsets!.buffer, experts: w!.shape[0], ...(b ? { bias: b.buffer } : {}), ...act(attrs) }, dim(rows!.shape[0]!));
    const e = ivar('e');
    const bias = b ? load(b.buffer, add(mul(e, N), ivar('n'))) : undefined;
    return [par('e', E, [loop('r', { k: 'bin', op: '-', a: loadI(offsets!.buffer, add(e, i(1))), b: loadI(offsets!.buffer, e), type: 'i32' }, [
      par('n', N, dot(rows!.buffer, w!.buffer, outs[0]!.buffer, add(loadI(offsets!.buffer, e), ivar('r')), ivar('n'), K, N, mul(e, mul(N, K)), bias, attrs.act)),
    ], true)])];
  },
  expert_linear: ({ ins, outs }) => {
    const [x, w] = ins;
    const [E, R, K] = x!.shape.map(dim) as [Expr, Expr, Expr];
    const N = dim(w!.shape[1]!);
    const e = ivar('e');
    return [par('e', E, [par('r', R, [par('n', N, [
      letF('acc', f(0)),
      loop('k', K, [set('acc', add(fvar('acc'), mul(load(x!.buffer, add(mul(add(mul(e, R), ivar('r')), K), ivar('k'))), load(w!.buffer, add(mul(add(mul(e, N), ivar('n')), K), ivar('k'))))))]),
      store(outs[0]!.buffer, add(mul(add(mul(e, R), ivar('r')), N), ivar('n')), fvar('acc')),
    ])])])];
  },
};
