// Product-key top-k as a loop nest (Lample et al. 2019, §3.2; PEER, He 2024, §2): per row, the k best of each
// half's scores into scratch, then the k best of the k × k pair sums, named a · n2 + b. Only registers and two
// k-wide scratch rows are written, so it runs on every target that runs topk.
import { numel } from '../../ir/dims.ts';
import { add, bin, dim, div, f, fvar, i, ivar, letF, letI, load, loadI, loop, mul, par, product, set, store, when } from '../expr.ts';
import type { Expr, Stmt } from '../ir.ts';
import type { OpLowering } from './context.ts';

/**
 * Repeated arg-max over `n` candidates in the order (value descending, key ascending): pick j is the best candidate
 * after pick j - 1 in that order. As routing.ts's selectTop, but ties go by `key(c)` rather than the candidate
 * number c, so pairs tie by their expert index. `choose(j)` records pick j (`best`, `bk`).
 */
function selectTopByKey(k: Expr, n: Expr, value: (c: Expr) => Expr, key: (c: Expr) => Expr, choose: (j: Expr) => Stmt[]): Stmt[] {
  const v = fvar('v');
  const kv = ivar('kv');
  const after = bin('||', bin('<', v, fvar('pb')), bin('&&', bin('==', v, fvar('pb')), bin('<', ivar('pk'), kv)));
  const better = bin('||', bin('<', ivar('bk'), i(0)), bin('||', bin('<', fvar('best'), v), bin('&&', bin('==', fvar('best'), v), bin('<', kv, ivar('bk')))));
  return [
    letF('pb', f(Infinity)),
    letI('pk', i(-1)),
    loop('j', k, [
      letF('best', f(-Infinity)),
      letI('bk', i(-1)),
      loop('c', n, [letF('v', value(ivar('c'))), letI('kv', key(ivar('c'))), when(bin('&&', after, better), [set('best', v), set('bk', kv)])]),
      set('pb', fvar('best')),
      set('pk', ivar('bk')),
      ...choose(ivar('j')),
    ]),
  ];
}

export const productKeyOps: Record<string, OpLowering> = {
  product_topk: ({ ins, outs, attrs, scratch }) => {
    const [s1, s2] = ins;
    const [values, indices] = outs;
    const k = attrs.k as number;
    const lead = s1!.shape.slice(0, -1);
    const n1 = dim(s1!.shape[s1!.shape.length - 1]!);
    const n2 = dim(s2!.shape[s2!.shape.length - 1]!);
    const best1 = scratch('i32', numel([...lead, k]));
    const best2 = scratch('i32', numel([...lead, k]));
    const r = ivar('r');
    const slot = (j: Expr) => add(mul(r, i(k)), j);
    // Candidate c of the k × k pairs: the (c / k)-th best of s1 with the (c mod k)-th best of s2.
    const a = (c: Expr) => loadI(best1, slot(div(c, i(k))));
    const b = (c: Expr) => loadI(best2, slot(bin('%', c, i(k))));
    const self = (c: Expr) => c;
    return [par('r', product(lead), [
      ...selectTopByKey(i(k), n1, (c) => load(s1!.buffer, add(mul(r, n1), c)), self, (j) => [store(best1, slot(j), ivar('bk'))]),
      ...selectTopByKey(i(k), n2, (c) => load(s2!.buffer, add(mul(r, n2), c)), self, (j) => [store(best2, slot(j), ivar('bk'))]),
      ...selectTopByKey(
        i(k), i(k * k),
        (c) => add(load(s1!.buffer, add(mul(r, n1), a(c))), load(s2!.buffer, add(mul(r, n2), b(c)))),
        (c) => add(mul(a(c), n2), b(c)),
        (j) => [store(values!.buffer, slot(j), fvar('best')), store(indices!.buffer, slot(j), ivar('bk'))],
      ),
    ])];
  },
};
