// Reductions, softmax and norms along one axis: an outer × inner grid of independent rows, a serial loop along the axis.
import { evalDim } from '../../ir/dims.ts';
import type { Dim } from '../../ir/types.ts';
import { add, bin, dim, div, f, fvar, ivar, letF, load, loop, mul, par, product, set, store, sub, un } from '../expr.ts';
import type { Expr, Stmt } from '../ir.ts';
import type { OpContext, OpLowering } from './context.ts';

export function axisOf(rank: number, a: unknown, fallback = -1): number {
  const axis = typeof a === 'number' ? a : fallback;
  return axis < 0 ? rank + axis : axis;
}


/** Loops over rows of `shape` along `axis`: body(indexOf(k)) where indexOf gives the flat index of element k. */
export function forEachRow(shape: Dim[], axis: number, body: (at: (k: Expr) => Expr) => Stmt[]): Stmt[] {
  const outer = product(shape.slice(0, axis));
  const n = dim(shape[axis]!);
  const inner = product(shape.slice(axis + 1));
  const o = ivar('o');
  const q = ivar('q');
  const at = (k: Expr) => add(mul(add(mul(o, n), k), inner), q);
  return [par('o', outer, [par('q', inner, body(at))])];
}

function reduction(init: number, step: (acc: Expr, x: Expr) => Expr, finish: (acc: Expr, n: Expr) => Expr): OpLowering {
  return ({ ins, outs, attrs }) => {
    const x = ins[0]!;
    const axis = axisOf(x.shape.length, attrs.axis);
    const n = dim(x.shape[axis]!);
    const inner = product(x.shape.slice(axis + 1));
    return forEachRow(x.shape, axis, (at) => [
      letF('acc', f(init)),
      loop('k', n, [set('acc', step(fvar('acc'), load(x.buffer, at(ivar('k')))))]),
      store(outs[0]!.buffer, add(mul(ivar('o'), inner), ivar('q')), finish(fvar('acc'), n)),
    ]);
  };
}

/** Softmax or log-sum-exp along an axis, max-shifted. */
function softmaxLike(logOnly: boolean): OpLowering {
  return ({ ins, outs, attrs }) => {
    const x = ins[0]!;
    const axis = axisOf(x.shape.length, attrs.axis);
    const n = dim(x.shape[axis]!);
    const inner = product(x.shape.slice(axis + 1));
    return forEachRow(x.shape, axis, (at) => {
      const xk = load(x.buffer, at(ivar('k')));
      const stmts: Stmt[] = [
        letF('mx', f(-Infinity)),
        loop('k', n, [set('mx', bin('max', fvar('mx'), xk))]),
        letF('sum', f(0)),
        loop('k', n, [set('sum', add(fvar('sum'), un('exp', sub(xk, fvar('mx')))))]),
      ];
      if (logOnly) stmts.push(store(outs[0]!.buffer, add(mul(ivar('o'), inner), ivar('q')), add(fvar('mx'), un('log', fvar('sum')))));
      else stmts.push(loop('k', n, [store(outs[0]!.buffer, at(ivar('k')), div(un('exp', sub(xk, fvar('mx'))), fvar('sum')))]));
      return stmts;
    });
  };
}

/** RMSNorm and LayerNorm over the last axis (x / sqrt(mean(x²) + eps) · w, or (x - mean)/sqrt(var + eps) · w + b). */
function norm(layer: boolean): OpLowering {
  return ({ ins, outs, attrs }: OpContext) => {
    const [x, w, b] = ins;
    const last = x!.shape.length - 1;
    const n = dim(x!.shape[last]!);
    const width = evalDim(x!.shape[last]!, {});
    const eps = f(attrs.eps as number);
    return forEachRow(x!.shape, last, (at) => {
      const xk = load(x!.buffer, at(ivar('k')));
      const stmts: Stmt[] = [letF('mean', f(0))];
      if (layer) stmts.push(loop('k', n, [set('mean', add(fvar('mean'), xk))]), set('mean', div(fvar('mean'), f(width))));
      const centred = layer ? sub(xk, fvar('mean')) : xk;
      stmts.push(
        letF('ss', f(0)),
        loop('k', n, [set('ss', add(fvar('ss'), mul(centred, centred)))]),
        letF('inv', un('rsqrt', add(div(fvar('ss'), f(width)), eps))),
      );
      let y = mul(load(w!.buffer, ivar('k')), mul(centred, fvar('inv')));
      if (b) y = add(y, load(b.buffer, ivar('k')));
      stmts.push(loop('k', n, [store(outs[0]!.buffer, at(ivar('k')), y)]));
      return stmts;
    });
  };
}

export const reduceOps: Record<string, OpLowering> = {
  reduce_sum: reduction(0, add, (acc) => acc),
  reduce_mean: reduction(0, add, (acc, n) => div(acc, { k: 'cast', a: n, type: 'f32' })),
  reduce_max: reduction(-Infinity, (a, x) => bin('max', a, x), (acc) => acc),
  softmax: softmaxLike(false),
  logsumexp: softmaxLike(true),
  rms_norm: norm(false),
  layer_norm: norm(true),
};
