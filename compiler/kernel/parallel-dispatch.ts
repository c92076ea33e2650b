// The MoE dispatch for targets with many threads: the loop nest is one serial counting sort (one thread copying every
// token row), which at 4096 tokens × top-2 × 4096 wide is 33M copies by a single thread. Here it is five grid-wide
// passes over the same buffers, each an ordinary kernel-IR loop nest, so the decisions (capacity per group, token
// order within an expert) are the loop nest's:
//   1. every copy's slot := -1;            2. per expert: its kept copies, counted in token order;
//   3. one thread: offsets by a prefix sum over the experts;
//   4. per expert: the rows of its kept copies;   5. per (row, column): copy the token, or zero rows past the kept.
// A GPU target runs them as consecutive launches (WGSL: passes of one kernel; CUDA: kernels of the program).
import { add, bin, div, f, i, ivar, letI, load, loadI, loop, mul, par, set, store, when } from './expr.ts';
import type { DispatchSpec, Kernel, KernelProgram, Stmt } from './ir.ts';

/** Walks a kernel's copies in token order for one expert `e`, running `kept` on each copy the capacity lets in. */
function keptCopies(s: DispatchSpec, kept: Stmt[]): Stmt[] {
  const t = ivar('t');
  const c = add(mul(t, s.k), ivar('j'));
  return [
    letI('used', i(0)),
    letI('cap', i(0)),
    loop('t', s.tokens, [
      when(bin('==', bin('%', t, s.group), i(0)), [set('used', i(0)), set('cap', s.capacity)]),
      loop('j', s.k, [
        when(bin('&&', bin('==', loadI(s.idx, c), ivar('e')), bin('<', ivar('used'), ivar('cap'))), [
          set('used', add(ivar('used'), i(1))),
          letI('c', c),
          ...kept,
        ]),
      ]),
    ]),
  ];
}

export function dispatchPasses(k: Kernel, s: DispatchSpec): Kernel[] {
  const e = ivar('e');
  const E = i(s.experts);
  const copies = mul(s.tokens, s.k);
  const r = ivar('r');
  const d = ivar('d');
  const pass = (name: string, body: Stmt[]): Kernel => ({ ...k, name: `${k.name}_${name}`, body, dispatch: undefined });
  return [
    pass('clear', [par('c', copies, [store(s.slots, ivar('c'), i(-1))])]),
    pass('count', [par('e', E, [letI('n', i(0)), ...keptCopies(s, [set('n', add(ivar('n'), i(1)))]), store(s.counts, e, ivar('n'))])]),
    pass('offsets', [
      letI('sum', i(0)),
      loop('e', E, [letI('n', loadI(s.counts, e)), store(s.offsets, e, ivar('sum')), store(s.counts, e, ivar('sum')), set('sum', add(ivar('sum'), ivar('n')))]),
      store(s.offsets, E, ivar('sum')),
    ]),
    pass('assign', [par('e', E, [letI('row', loadI(s.counts, e)), ...keptCopies(s, [store(s.slots, ivar('c'), ivar('row')), set('row', add(ivar('row'), i(1)))])])]),
    pass('copy', [par('r', bin('max', copies, s.rowCount), [par('d', s.width, [
      when(bin('<', r, copies), [
        letI('row', loadI(s.slots, r)),
        when(bin('<=', i(0), ivar('row')), [store(s.rows, add(mul(ivar('row'), s.width), d), load(s.x, add(mul(div(r, s.k), s.width), d)))]),
      ]),
      when(bin('&&', bin('<', r, s.rowCount), bin('<=', loadI(s.offsets, E), r)), [store(s.rows, add(mul(r, s.width), d), f(0))]),
    ])])]),
  ];
}


/** The program with every dispatch kernel replaced by its five passes (same buffers, names `<kernel>_<pass>`). */
export function splitDispatch(p: KernelProgram): KernelProgram {
  return { ...p, kernels: p.kernels.flatMap((k) => (k.dispatch ? dispatchPasses(k, k.dispatch) : [k])) };
}
