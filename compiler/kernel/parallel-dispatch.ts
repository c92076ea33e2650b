// The MoE dispatch for targets with many threads: the loop nest is one serial counting sort (one thread copying every
// token row), which at 4096 tokens × top-2 × 4096 wide is 33M copies by a single thread. Here it is six grid-wide
// passes over the same buffers, each an ordinary kernel-IR loop nest, deciding what the loop nest decides (capacity
// per group, token order within an expert). The tokens are cut into chunks of CHUNK within their group, so that no
// thread walks more than one chunk's copies (one thread per expert walking all copies took milliseconds at 16384
// tokens × top-8):
//   1. every copy's slot := -1;
//   2. per (chunk, expert): the chunk's copies that chose the expert;
//   3. per expert, over the chunks in order: the copies before each chunk in its group (its first copy's rank
//      against the capacity) and the kept copies before it (its first kept copy's row), and the expert's kept total;
//   4. one thread: offsets by a prefix sum over the experts;
//   5. per (chunk, expert): the rows of the chunk's kept copies;
//   6. per (row, column): copy the token, or zero rows past the kept.
// A GPU target runs them as consecutive launches (WGSL: passes of one kernel; CUDA: kernels of the program).
import { add, bin, div, f, i, ivar, letI, load, loadI, loop, mul, par, set, store, sub, when } from './expr.ts';
import type { DispatchSpec, Expr, Kernel, KernelProgram, Stmt } from './ir.ts';

/** Tokens a chunk holds at most. */
export const CHUNK = 64;

const ceilDiv = (a: Expr, b: Expr) => div(add(a, sub(b, i(1))), b);
const max = (a: Expr, b: Expr) => bin('max', a, b);
const min = (a: Expr, b: Expr) => bin('min', a, b);

/**
 * The chunks: each group's tokens in pieces of CHUNK, ⌈tokens / group⌉ · ⌈group / CHUNK⌉ of them, with the group no
 * longer than the tokens (one group of them all, as the serial sort has it): at most `tokens` chunks, the size of the
 * table (a chunk that is not empty holds a token; only the last group's surplus chunks are empty). `q` is a chunk's
 * index.
 */
function chunking(s: DispatchSpec) {
  const group = max(min(s.group, s.tokens), i(1));
  const perGroup = ceilDiv(group, i(CHUNK));
  const q = ivar('q');
  const first = add(mul(div(q, perGroup), group), mul(bin('%', q, perGroup), i(CHUNK)));
  const end = min(add(first, i(CHUNK)), min(mul(add(div(q, perGroup), i(1)), group), s.tokens));
  return { count: mul(ceilDiv(s.tokens, group), perGroup), perGroup, first, end, q };
}

/** Walks chunk q's copies in token order (copy c of token t), running `body` on each that chose expert e. */
function chunkCopies(s: DispatchSpec, body: Stmt[]): Stmt[] {
  const { first, end } = chunking(s);
  return [
    letI('from', first),
    loop('u', max(sub(end, ivar('from')), i(0)), [
      letI('t', add(ivar('from'), ivar('u'))),
      loop('j', s.k, [
        letI('c', add(mul(ivar('t'), s.k), ivar('j'))),
        when(bin('==', loadI(s.idx, ivar('c')), ivar('e')), body),
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
  const { count: chunks, perGroup, first, q } = chunking(s);
  // Chunk q's entries of the table: the copies of e before it in its group, and the kept copies of e before it.
  const before = add(mul(q, i(2 * s.experts)), e);
  const keptBefore = add(before, E);
  // The capacity of chunk q's group (the expression reads `t`, any token of the group).
  const capacity = (): Stmt[] => [letI('t', first), letI('cap', s.capacity)];
  const pass = (name: string, body: Stmt[]): Kernel => ({ ...k, name: `${k.name}_${name}`, body, dispatch: undefined });
  return [
    pass('clear', [par('c', copies, [store(s.slots, ivar('c'), i(-1))])]),
    pass('count', [par('q', chunks, [par('e', E, [
      letI('n', i(0)),
      ...chunkCopies(s, [set('n', add(ivar('n'), i(1)))]),
      store(s.chunks, before, ivar('n')),
    ])])]),
    pass('scan', [par('e', E, [
      letI('run', i(0)),
      letI('kept', i(0)),
      loop('q', chunks, [
        ...capacity(),
        when(bin('==', bin('%', q, perGroup), i(0)), [set('run', i(0))]),
        letI('n', loadI(s.chunks, before)),
        store(s.chunks, before, ivar('run')),
        store(s.chunks, keptBefore, ivar('kept')),
        set('kept', add(ivar('kept'), max(i(0), min(ivar('n'), sub(ivar('cap'), ivar('run')))))),
        set('run', add(ivar('run'), ivar('n'))),
      ]),
      store(s.counts, e, ivar('kept')),
    ])]),
    pass('offsets', [
      letI('sum', i(0)),
      loop('e', E, [store(s.offsets, e, ivar('sum')), set('sum', add(ivar('sum'), loadI(s.counts, e)))]),
      store(s.offsets, E, ivar('sum')),
    ]),
    pass('assign', [par('q', chunks, [par('e', E, [
      ...capacity(),
      letI('rank', loadI(s.chunks, before)),
      letI('row', add(loadI(s.offsets, e), loadI(s.chunks, keptBefore))),
      ...chunkCopies(s, [
        when(bin('<', ivar('rank'), ivar('cap')), [store(s.slots, ivar('c'), ivar('row')), set('row', add(ivar('row'), i(1)))]),
        set('rank', add(ivar('rank'), i(1))),
      ]),
    ])])]),
    pass('copy', [par('r', bin('max', copies, s.rowCount), [par('d', s.width, [
      when(bin('<', r, copies), [
        letI('row', loadI(s.slots, r)),
        when(bin('<=', i(0), ivar('row')), [store(s.rows, add(mul(ivar('row'), s.width), d), load(s.x, add(mul(div(r, s.k), s.width), d)))]),
      ]),
      when(bin('&&', bin('<', r, s.rowCount), bin('<=', loadI(s.offsets, E), r)), [store(s.rows, add(mul(r, s.width), d), f(0))]),
    ])])]),
  ];
}

/** The program with every dispatch kernel replaced by its six passes (same buffers, names `<kernel>_<pass>`). */
export function splitDispatch(p: KernelProgram): KernelProgram {
  return { ...p, kernels: p.kernels.flatMap((k) => (k.dispatch ? dispatchPasses(k, k.dispatch) : [k])) };
}
