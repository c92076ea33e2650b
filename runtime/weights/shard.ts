// A rank's weights under expert parallelism: parameters the lowering marked `ranks` hold that rank's consecutive
// slice of the stacked experts (axis 0); every other parameter is the whole tensor, replicated.
import type { Param } from '../../compiler/ir/types.ts';
import type { BoundParam } from './bind.ts';

export function rankWeights(params: readonly Param[], weights: ReadonlyMap<string, BoundParam>, rank: number): Map<string, BoundParam> {
  const out = new Map<string, BoundParam>();
  for (const p of params) {
    const w = weights.get(p.name);
    if (!w) continue;
    const ranks = p.attrs.ranks;
    if (typeof ranks !== 'number' || ranks <= 1) {
      out.set(p.name, w);
      continue;
    }
    if (rank < 0 || rank >= ranks) throw new RangeError(`rank ${rank} is out of range for ${ranks} ranks`);
    const rows = w.shape[0]! / ranks;
    if (!Number.isInteger(rows)) throw new Error(`${p.name}: ${w.shape[0]} experts do not split over ${ranks} ranks`);
    const per = w.data.length / w.shape[0]!;
    out.set(p.name, { shape: [rows, ...w.shape.slice(1)], data: w.data.slice(rank * rows * per, (rank + 1) * rows * per) });
  }
  return out;
}
