// MoE routing as loop nests: top-k selection (with DeepSeek-V3's group limit), hashing, Expert Choice, the
// dispatch counting sort with Switch capacity, the weighted combine, and the router losses.
import { evalDim, numel } from '../../ir/dims.ts';
import type { Dim } from '../../ir/types.ts';
import { add, bin, dim, div, f, fvar, i, ivar, letF, letI, load, loadI, loop, mul, par, product, select, set, store, sub, toF, toI, un, when } from '../expr.ts';
import type { Expr, Stmt } from '../ir.ts';
import { balancedHash } from '../../ir/hash.ts';
import { COIN_PERIOD, secondExpertCoins } from '../../ir/coins.ts';
import type { OpLowering } from './context.ts';

/**
 * Repeated arg-max over `n` candidates read by `value(c)`, in the order (value descending, index ascending): pick j
 * is the largest candidate after pick j - 1 in that order (below its value, or equal with a higher index), so no
 * scratch marks the picks and nothing but registers is written (ties go to the lower index, as a scan that skips
 * the picks gives them). `choose(j)` records the j-th pick (`best`, `bi`).
 */
function selectTop(k: Expr, n: Expr, value: (c: Expr) => Expr, choose: (j: Expr) => Stmt[]): Stmt[] {
  const c = ivar('c');
  const v = fvar('v');
  const after = bin('||', bin('<', v, fvar('pb')), bin('&&', bin('==', v, fvar('pb')), bin('<', ivar('pi'), c)));
  return [
    letF('pb', f(Infinity)),
    letI('pi', i(-1)),
    loop('j', k, [
      letF('best', f(-Infinity)),
      letI('bi', i(-1)),
      loop('c', n, [
        letF('v', value(c)),
        when(bin('&&', after, bin('||', bin('<', ivar('bi'), i(0)), bin('<', fvar('best'), v))), [set('best', v), set('bi', c)]),
      ]),
      set('pb', fvar('best')),
      set('pi', ivar('bi')),
      ...choose(ivar('j')),
    ]),
  ];
}

export const routingOps: Record<string, OpLowering> = {
  topk: ({ ins, outs, attrs, scratch }) => {
    const x = ins[0]!;
    const [values, indices] = outs;
    const k = attrs.k as number;
    const nDim = x.shape[x.shape.length - 1]!;
    const n = dim(nDim);
    const rows = product(x.shape.slice(0, -1));
    const r = ivar('r');
    const groups = (attrs.groups as number | undefined) ?? 1;
    const record = (j: Expr): Stmt[] => [store(values!.buffer, add(mul(r, i(k)), j), fvar('best')), store(indices!.buffer, add(mul(r, i(k)), j), ivar('bi'))];
    if (groups <= 1) return [par('r', rows, selectTop(i(k), n, (c) => load(x.buffer, add(mul(r, n), c)), record))];
    // DeepSeek-V3: a group scores the sum of its two best; experts outside the topk_groups best groups are masked to -∞.
    const size = evalDim(nDim, {}) / groups;
    const keep = (attrs.topk_groups as number | undefined) ?? groups;
    const masked = scratch('f32', numel(x.shape));
    const gscore = scratch('f32', numel([...x.shape.slice(0, -1), groups]));
    const g = ivar('g');
    const xr = (c: Expr) => load(x.buffer, add(mul(r, n), c));
    const groupScore: Stmt[] = [
      letF('m1', f(-Infinity)),
      letF('m2', f(-Infinity)),
      loop('c', i(size), [
        letF('v', xr(add(mul(g, i(size)), ivar('c')))),
        // The two largest so far: a new maximum demotes the old one to second place.
        set('m2', select(bin('<', fvar('m1'), fvar('v')), fvar('m1'), bin('max', fvar('m2'), fvar('v')))),
        set('m1', bin('max', fvar('m1'), fvar('v'))),
      ]),
      store(gscore, add(mul(r, i(groups)), g), size >= 2 ? add(fvar('m1'), fvar('m2')) : fvar('m1')),
    ];
    return [par('r', rows, [
      loop('g', i(groups), groupScore),
      loop('c', n, [store(masked, add(mul(r, n), ivar('c')), f(-Infinity))]),
      ...selectTop(i(keep), i(groups), (c) => load(gscore, add(mul(r, i(groups)), c)), () => [
        loop('c2', i(size), [store(masked, add(mul(r, n), add(mul(ivar('bi'), i(size)), ivar('c2'))), xr(add(mul(ivar('bi'), i(size)), ivar('c2'))))]),
      ]),
      ...selectTop(i(k), n, (c) => load(masked, add(mul(r, n), c)), record),
    ])];
  },
  // The router in one kernel: softmax over the experts, the k best, renormalised when asked.
  softmax_topk: ({ ins, outs, attrs, router }) => {
    const x = ins[0]!;
    const [probs, values, indices] = outs;
    const k = attrs.k as number;
    const n = dim(x.shape[x.shape.length - 1]!);
    const r = ivar('r');
    const at = (c: Expr) => add(mul(r, n), c);
    const width = x.shape[x.shape.length - 1]!;
    if (typeof width === 'number') router({ logits: x.buffer, probs: probs!.buffer, values: values!.buffer, indices: indices!.buffer, n: width, k, normalize: attrs.normalize === true });
    const kept: Stmt[] = attrs.normalize === true
      ? [
          letF('total', f(0)),
          loop('j', i(k), [set('total', add(fvar('total'), load(values!.buffer, add(mul(r, i(k)), ivar('j')))))]),
          loop('j', i(k), [store(values!.buffer, add(mul(r, i(k)), ivar('j')), div(load(values!.buffer, add(mul(r, i(k)), ivar('j'))), fvar('total')))]),
        ]
      : [];
    return [par('r', product(x.shape.slice(0, -1)), [
      letF('mx', f(-Infinity)),
      loop('c', n, [set('mx', bin('max', fvar('mx'), load(x.buffer, at(ivar('c')))))]),
      letF('sum', f(0)),
      loop('c', n, [set('sum', add(fvar('sum'), un('exp', sub(load(x.buffer, at(ivar('c'))), fvar('mx')))))]),
      loop('c', n, [store(probs!.buffer, at(ivar('c')), div(un('exp', sub(load(x.buffer, at(ivar('c'))), fvar('mx'))), fvar('sum')))]),
      ...selectTop(i(k), n, (c) => load(probs!.buffer, at(c)), (j) => [
        store(values!.buffer, add(mul(r, i(k)), j), fvar('best')),
        store(indices!.buffer, add(mul(r, i(k)), j), ivar('bi')),
      ]),
      ...kept,
    ])];
  },
  gather_last: ({ ins, outs }) => {
    const [x, idx] = ins;
    const n = dim(x!.shape[x!.shape.length - 1]!);
    const k = dim(idx!.shape[idx!.shape.length - 1]!);
    const rows = product(idx!.shape.slice(0, -1));
    return [par('r', rows, [par('j', k, [store(outs[0]!.buffer, add(mul(ivar('r'), k), ivar('j')), load(x!.buffer, add(mul(ivar('r'), n), loadI(idx!.buffer, add(mul(ivar('r'), k), ivar('j'))))))])])];
  },
  hash_route: ({ ins, outs, attrs, constant }) => {
    const ids = ins[0]!;
    const E = attrs.experts as number;
    const id = loadI(ids.buffer, ivar('t'));
    const value = attrs.method === 'modulo' ? bin('%', id, i(E)) : loadI(constant('i32', Array.from(balancedHash(attrs.vocab as number, E, attrs.seed as number))), id);
    return [par('t', product(ids.shape), [store(outs[0]!.buffer, ivar('t'), value)])];
  },
  // Expert Choice (Zhou et al. 2022): expert e takes its c = ceil(T·capacity_factor/E) best tokens.
  expert_choice: ({ ins, outs, attrs }) => {
    const p = ins[0]!;
    const [T, E] = p.shape.map(dim) as [Expr, Expr];
    const [weights, indices] = outs;
    const e = ivar('e');
    // At most floor(T · ceil(capacity_factor) / E), the dispatch's room (the reference's comment says why).
    const room = div(mul(T, i(Math.ceil(attrs.capacity_factor as number))), E);
    const capacity = bin('min', bin('min', T, room), toI(un('neg', un('floor', un('neg', div(mul(toF(T), f(attrs.capacity_factor as number)), toF(E)))))));
    return [
      par('t', mul(T, E), [store(weights!.buffer, ivar('t'), f(0)), store(indices!.buffer, ivar('t'), i(-1))]),
      par('e', E, selectTop(capacity, T, (t) => load(p.buffer, add(mul(t, E), e)), () => [
        store(weights!.buffer, add(mul(ivar('bi'), E), e), fvar('best')),
        store(indices!.buffer, add(mul(ivar('bi'), E), e), e),
      ])),
    ];
  },
  // GShard Algorithm 1: the second expert is kept when 2 · g2 / (g1 + g2) exceeds token t's coin (t mod 4096).
  random_second: ({ ins, outs, attrs, constant }) => {
    const [w, idx] = ins;
    const [weights, indices] = outs;
    const coins = constant('f32', Array.from(secondExpertCoins(attrs.seed as number)));
    const t = ivar('t');
    const at = (j: number) => add(mul(t, i(2)), i(j));
    const keep = bin('<', load(coins, bin('%', t, i(COIN_PERIOD))), div(mul(f(2), load(w!.buffer, at(1))), add(load(w!.buffer, at(0)), load(w!.buffer, at(1)))));
    return [par('t', dim(w!.shape[0]!), [
      store(weights!.buffer, at(0), load(w!.buffer, at(0))),
      store(indices!.buffer, at(0), loadI(idx!.buffer, at(0))),
      store(weights!.buffer, at(1), select(keep, load(w!.buffer, at(1)), f(0))),
      store(indices!.buffer, at(1), select(keep, loadI(idx!.buffer, at(1)), i(-1))),
    ])];
  },
  // A stable counting sort of (token, choice) copies by expert, keeping each expert's first `capacity` copies per group.
  dispatch: ({ ins, outs, attrs, scratch, dispatch }) => {
    const [x, idx] = ins;
    const [rows, offsets, slots] = outs;
    const E = attrs.experts as number;
    const [T, K] = idx!.shape.map(dim) as [Expr, Expr];
    const D = dim(x!.shape[1]!);
    const used = scratch('i32', E);
    const next = scratch('i32', E);
    // The parallel form's per-chunk table (compiler/kernel/parallel-dispatch.ts): 2E ints for each of at most T chunks.
    const chunks = scratch('i32', numel([idx!.shape[0]!, 2 * E]));
    const t = ivar('t');
    const j = ivar('j');
    const e = ivar('e');
    const group = attrs.group_size !== undefined ? dim(attrs.group_size as Dim) : T;
    const groupStart = mul(div(t, group), group);
    const groupLen = bin('min', group, sub(T, groupStart));
    const cap: Expr = typeof attrs.capacity === 'number'
      ? i(attrs.capacity)
      : typeof attrs.capacity_factor === 'number'
        ? toI(un('neg', un('floor', un('neg', div(mul(toF(mul(groupLen, K)), f(attrs.capacity_factor)), f(E))))))
        : i(2 ** 30);
    const copy = add(mul(t, K), j);
    dispatch({ x: x!.buffer, idx: idx!.buffer, rows: rows!.buffer, offsets: offsets!.buffer, slots: slots!.buffer, experts: E, tokens: T, k: K, width: D, rowCount: dim(rows!.shape[0]!), group, capacity: cap, counts: next, chunks });
    return [
      loop('e', i(E), [store(offsets!.buffer, e, i(0))]),
      store(offsets!.buffer, i(E), i(0)),
      loop('r', mul(T, K), [store(slots!.buffer, ivar('r'), i(-1))]),
      // Pass 1: which copies fit, in token order, counted per group; slots[copy] = 1 marks a kept copy for now.
      loop('t', T, [
        when(bin('==', bin('%', t, group), i(0)), [loop('e', i(E), [store(used, e, i(0))])]),
        loop('j', K, [
          letI('ex', loadI(idx!.buffer, copy)),
          when(bin('&&', bin('<=', i(0), ivar('ex')), bin('<', loadI(used, ivar('ex')), cap)), [
            store(used, ivar('ex'), add(loadI(used, ivar('ex')), i(1))),
            store(offsets!.buffer, add(ivar('ex'), i(1)), add(loadI(offsets!.buffer, add(ivar('ex'), i(1))), i(1))),
            store(slots!.buffer, copy, i(1)),
          ]),
        ]),
      ]),
      loop('e', i(E), [store(offsets!.buffer, add(e, i(1)), add(loadI(offsets!.buffer, add(e, i(1))), loadI(offsets!.buffer, e))), store(next, e, loadI(offsets!.buffer, e))]),
      // Pass 2: give each kept copy its row, in token order within its expert, and copy the token there.
      loop('t', T, [loop('j', K, [when(bin('==', loadI(slots!.buffer, copy), i(1)), [
        letI('ex', loadI(idx!.buffer, copy)),
        letI('row', loadI(next, ivar('ex'))),
        store(next, ivar('ex'), add(ivar('row'), i(1))),
        store(slots!.buffer, copy, ivar('row')),
        loop('d', D, [store(rows!.buffer, add(mul(ivar('row'), D), ivar('d')), load(x!.buffer, add(mul(t, D), ivar('d'))))]),
      ])])]),
      // Rows past the kept ones are zero.
      loop('r', sub(dim(rows!.shape[0]!), loadI(offsets!.buffer, i(E))), [loop('d', D, [store(rows!.buffer, add(mul(add(loadI(offsets!.buffer, i(E)), ivar('r')), D), ivar('d')), f(0))])]),
    ];
  },
  combine: ({ ins, outs }) => {
    const [rows, slots, weights] = ins;
    const [T, K] = slots!.shape.map(dim) as [Expr, Expr];
    const D = dim(rows!.shape[1]!);
    const t = ivar('t');
    const slot = loadI(slots!.buffer, add(mul(t, K), ivar('j')));
    return [par('t', T, [par('d', D, [
      letF('acc', f(0)),
      loop('j', K, [when(bin('<=', i(0), slot), [set('acc', add(fvar('acc'), mul(load(weights!.buffer, add(mul(t, K), ivar('j'))), load(rows!.buffer, add(mul(slot, D), ivar('d'))))))])]),
      store(outs[0]!.buffer, add(mul(t, D), ivar('d')), fvar('acc')),
    ])])];
  },
  gather_rows: ({ ins, outs }) => {
    const [x, idx] = ins;
    const D = dim(x!.shape[x!.shape.length - 1]!);
    return [par('r', product(idx!.shape), [par('d', D, [store(outs[0]!.buffer, add(mul(ivar('r'), D), ivar('d')), load(x!.buffer, add(mul(loadI(idx!.buffer, ivar('r')), D), ivar('d'))))])])];
  },
  scatter_add_rows: ({ ins, outs }) => {
    const [x, idx] = ins;
    const out = outs[0]!;
    const D = dim(x!.shape[x!.shape.length - 1]!);
    const at = add(mul(loadI(idx!.buffer, ivar('r')), D), ivar('d'));
    // Serial over source rows: two sources may add into the same row.
    return [
      par('z', product(out.shape), [store(out.buffer, ivar('z'), f(0))]),
      loop('r', product(idx!.shape), [par('d', D, [store(out.buffer, at, add(load(out.buffer, at), load(x!.buffer, add(mul(ivar('r'), D), ivar('d')))))])]),
    ];
  },
  // Switch eq. 4 as HF computes it: E · Σ_{j,e} mean_t(onehot(idx[t,j]) = e) · mean_t(p[t,e]).
  load_balance_loss: ({ ins, outs, attrs, scratch }) => {
    const [p, idx] = ins;
    const E = attrs.experts as number;
    const [T, K] = idx!.shape.map(dim) as [Expr, Expr];
    const counts = scratch('f32', numel([E, idx!.shape[1]!]));
    const e = ivar('e');
    const j = ivar('j');
    return [
      loop('z', mul(i(E), K), [store(counts, ivar('z'), f(0))]),
      loop('t', T, [loop('j', K, [letI('ex', loadI(idx!.buffer, add(mul(ivar('t'), K), j))), store(counts, add(mul(j, i(E)), ivar('ex')), add(load(counts, add(mul(j, i(E)), ivar('ex'))), f(1)))])]),
      letF('loss', f(0)),
      loop('e', i(E), [
        letF('pm', f(0)),
        loop('t', T, [set('pm', add(fvar('pm'), load(p!.buffer, add(mul(ivar('t'), i(E)), e))))]),
        loop('j', K, [set('loss', add(fvar('loss'), mul(div(load(counts, add(mul(j, i(E)), e)), toF(T)), div(fvar('pm'), toF(T)))))]),
      ]),
      store(outs[0]!.buffer, i(0), mul(fvar('loss'), f(E))),
    ];
  },
  // ST-MoE eq. 5: mean over tokens of logsumexp(logits)².
  z_loss: ({ ins, outs }) => {
    const x = ins[0]!;
    const [T, E] = x.shape.map(dim) as [Expr, Expr];
    const at = (c: Expr) => load(x.buffer, add(mul(ivar('t'), E), c));
    return [
      letF('sum', f(0)),
      loop('t', T, [
        letF('mx', f(-Infinity)),
        loop('e', E, [set('mx', bin('max', fvar('mx'), at(ivar('e'))))]),
        letF('s', f(0)),
        loop('e', E, [set('s', add(fvar('s'), un('exp', sub(at(ivar('e')), fvar('mx')))))]),
        letF('lse', add(fvar('mx'), un('log', fvar('s')))),
        set('sum', add(fvar('sum'), mul(fvar('lse'), fvar('lse')))),
      ]),
      store(outs[0]!.buffer, i(0), div(fvar('sum'), toF(T))),
    ];
  },
};
