// Op-by-op comparison of two executors' values, in the graph's node order: the first value that diverges (relative
// L2 ≥ tolerance for floats, any difference for integers such as expert indices), named by op and location, with a
// summary of both. An integer mismatch at a routing decision that was a near tie in the reference stops the
// comparison without a failure (everything after it may legitimately differ).
import type { Graph, Node } from '../../compiler/ir/types.ts';
import { relativeL2 } from '../helpers/compare.ts';
import { nearTie } from './near-tie.ts';
import { keptRows } from './padding.ts';
import type { Storage, Values } from './values.ts';

export interface Divergence {
  value: string;
  op: string;
  loc?: string;
  message: string;
}

export interface Comparison {
  /** Values compared (both executors had them). */
  compared: number;
  /** Set when the comparison stopped at an ambiguous routing decision. */
  tie?: string;
  divergence?: Divergence;
}

export function summary(d: Storage): string {
  const v = Array.from(d);
  const finite = v.filter(Number.isFinite);
  const head = v.slice(0, 6).map((x) => (Number.isInteger(x) ? String(x) : x.toPrecision(5))).join(', ');
  const stats = finite.length ? ` min ${Math.min(...finite).toPrecision(5)} max ${Math.max(...finite).toPrecision(5)}` : '';
  return `${d instanceof Int32Array ? 'i32' : 'f32'}[${d.length}] [${head}${v.length > 6 ? ', …' : ''}]${stats}${finite.length < v.length ? ` (${v.length - finite.length} non-finite)` : ''}`;
}

function firstDifference(a: Storage, b: Storage): string {
  const i = Array.from(a).findIndex((x, k) => !(Object.is(x, b[k]) || Math.abs(x - b[k]!) <= 1e-6 * Math.max(1, Math.abs(x))));
  return i < 0 ? '' : `; first at element ${i}: ${a[i]} vs ${b[i]}`;
}

/** Why `got` is not `want`, or undefined when it is within tolerance. */
function differs(want: Storage, got: Storage, tolerance: number): string | undefined {
  if (want.length !== got.length) return `${want.length} elements vs ${got.length}`;
  if (want instanceof Int32Array || got instanceof Int32Array) return want.every((x, i) => x === got[i]) ? undefined : 'integers differ';
  if (!got.every(Number.isFinite) && want.every(Number.isFinite)) return 'non-finite values';
  const err = relativeL2(got, want);
  // Values that are zero (or nearly) everywhere compare absolutely: an error of 1e-7 in a vector of zeros is none.
  const rms = Math.sqrt(want.reduce((s, x) => s + x * x, 0) / Math.max(1, want.length));
  if (rms < 1e-6 && got.every((x) => Math.abs(x) < 1e-5)) return undefined;
  return err < tolerance ? undefined : `relative L2 ${err.toExponential(2)} ≥ ${tolerance}`;
}

/** The routing decision at `n` was a near tie in the reference: one of its float operands has two near-equal scores. */
function ambiguous(graph: Graph, n: Node, want: Values): boolean {
  const types = new Map(graph.nodes.flatMap((m) => m.outputs.map((o, k) => [o, m.types?.[k]] as const)));
  return n.inputs.some((r) => {
    const d = want.get(r);
    const cols = types.get(r)?.shape.at(-1);
    return d instanceof Float32Array && typeof cols === 'number' && nearTie(d, cols);
  });
}

export function compareValues(graph: Graph, want: Values, got: Values, tolerance = 1e-4): Comparison {
  let compared = 0;
  const kept = keptRows(graph, want);
  for (const n of graph.nodes) {
    for (const [k, v] of n.outputs.entries()) {
      let a = want.get(v);
      let b = got.get(v);
      if (!a || !b) continue;
      const width = n.types?.[k]?.shape.at(-1);
      if (kept.has(v) && typeof width === 'number') [a, b] = [a.subarray(0, kept.get(v)! * width), b.subarray(0, kept.get(v)! * width)];
      compared++;
      const why = differs(a, b, tolerance);
      if (!why) continue;
      const where = `${v} = ${n.op}${n.loc ? ` at ${n.loc}` : ''}`;
      if (a instanceof Int32Array && ambiguous(graph, n, want)) return { compared, tie: where };
      return {
        compared,
        divergence: { value: v, op: n.op, loc: n.loc, message: `${where}: ${why}${firstDifference(a, b)}\n  reference: ${summary(a)}\n  target:    ${summary(b)}` },
      };
    }
  }
  return { compared };
}
