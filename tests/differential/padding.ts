// The rows of a value that carry data when the value is a dispatch's sorted rows or computed row by row from them:
// rows past offsets[experts] (the kept copies) are unspecified after a grouped matmul (compiled targets skip them;
// see grouped_linear in compiler/ir/ops.ts), so op-by-op comparison looks only at the first offsets[experts] rows.
import type { Graph } from '../../compiler/ir/types.ts';
import type { Values } from './values.ts';

/** Value → rows that carry data, for the values downstream of a dispatch's rows until a combine reads them back. */
export function keptRows(graph: Graph, reference: Values): Map<string, number> {
  const kept = new Map<string, number>();
  const rowsOf = (v: string) => graph.nodes.flatMap((n) => n.outputs.map((o, k) => [o, n.types?.[k]?.shape[0]] as const)).find(([o]) => o === v)?.[1];
  for (const n of graph.nodes) {
    if (n.op === 'dispatch') {
      const offsets = reference.get(n.outputs[1]!);
      if (offsets) kept.set(n.outputs[0]!, offsets[offsets.length - 1]!);
      continue;
    }
    if (n.op === 'combine' || n.op.startsWith('all_to_all')) continue;
    const from = n.inputs.find((r) => kept.has(r));
    if (from === undefined) continue;
    for (const o of n.outputs) if (rowsOf(o) === rowsOf(from)) kept.set(o, kept.get(from)!);
  }
  return kept;
}
