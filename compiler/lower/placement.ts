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
  const errors: string[] = [];
  const stacks = [spec.encoder, spec.decoder].filter((s) => s !== undefined);
  const layerName = (stack: string, l: LayerSpec) => `${stack}.${l.index}`;
  for (const s of stacks) {
    for (const l of s.layers) {
      const f = l.ffn;
      if (f?.kind === 'peer') errors.push(`${layerName(s.name, l)}: a PEER layer's experts are single rows retrieved by every token; expert parallelism shards MoE layers only`);
      if (f?.kind !== 'moe') continue;
      if (f.router.kind === 'soft') errors.push(`${layerName(s.name, l)}: Soft MoE mixes every token into every slot, so it has no dispatch to exchange; expert parallelism needs a routed MoE`);
      else if (f.experts % ranks !== 0) errors.push(`${layerName(s.name, l)}: ${f.experts} experts do not split evenly over ${ranks} ranks`);
    }
  }
  if (!stacks.some((s) => s.layers.some((l) => l.ffn?.kind === 'moe'))) errors.push(`${spec.name} has no MoE layer: there are no experts to place on ${ranks} ranks`);
  return grouped(errors);
}

/** "a: why", "b: why" → "a, b: why": one line per reason, naming every layer it applies to. */
function grouped(errors: string[]): string[] {
  const byReason = new Map<string, string[]>();
  for (const e of errors) {
    const at = e.indexOf(': ');
    const [where, why] = at > 0 && !e.startsWith('--') && !e.includes(' has no MoE layer') ? [e.slice(0, at), e.slice(at + 2)] : ['', e];
    byReason.set(why, [...(byReason.get(why) ?? []), where]);
  }
  const layers = (where: string[]) => (where.length > 4 ? `${where[0]}, ${where[1]}, … ${where.at(-1)} (${where.length} layers)` : where.join(', '));
  return [...byReason].map(([why, where]) => (where[0] ? `${layers(where)}: ${why}` : why));
}
