// Expert parallelism (--expert-parallel N): what a spec must allow before it is lowered for N ranks. Each rank runs
// the same graph on its share of the batch, holds experts / N of every MoE layer's experts, and exchanges rows with
// the others around the experts (all_to_all_dispatch, all_to_all_combine); attention and dense layers are replicated.
import type { LayerSpec, ModelSpec } from '../spec/types.ts';

/** A spec that cannot be placed as asked: one line per reason. */
export class PlacementError extends Error {
  override name = 'PlacementError';
}

/** Throws PlacementError with every reason `spec` cannot run on `ranks` ranks. */
export function checkPlacement(spec: ModelSpec, ranks: number): void {
  const errors = placementErrors(spec, ranks);
  if (errors.length) throw new PlacementError(errors.join('\n'));
}

/** Why `spec` cannot run on `ranks` expert-parallel ranks; empty when it can. */
export function placementErrors(spec: ModelSpec, ranks: number): string[] {
  if (!Number.isInteger(ranks) || ranks < 1) return [`--expert-parallel must be a positive integer, got ${ranks}`];
  if (ranks === 1) return [];
  const stacks = [spec.encoder, spec.decoder].filter((s) => s !== undefined);
  if (!stacks.some((s) => s.layers.some((l) => l.ffn?.kind === 'moe'))) return [`${spec.name} has no MoE layer: there are no experts to place on ${ranks} ranks`];
  // Each reason once, with the layers it applies to.
  const byReason = new Map<string, string[]>();
  const refuse = (l: LayerSpec, stack: string, why: string) => byReason.set(why, [...(byReason.get(why) ?? []), `${stack}.${l.index}`]);
  for (const s of stacks) {
    for (const l of s.layers) {
      const f = l.ffn;
      if (f?.kind === 'peer') refuse(l, s.name, "a PEER layer's experts are single rows retrieved by every token; expert parallelism shards MoE layers only");
      if (f?.kind !== 'moe') continue;
      if (f.router.kind === 'soft') refuse(l, s.name, 'Soft MoE mixes every token into every slot, so it has no dispatch to exchange; expert parallelism needs a routed MoE');
      else if (f.experts % ranks !== 0) refuse(l, s.name, `${f.experts} experts do not split evenly over ${ranks} ranks`);
    }
  }
  const layers = (where: string[]) => (where.length > 4 ? `${where[0]}, ${where[1]}, … ${where.at(-1)} (${where.length} layers)` : where.join(', '));
  return [...byReason].map(([why, where]) => `${layers(where)}: ${why}`);
}
