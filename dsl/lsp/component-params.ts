// The parameters one use of a component declares: the layer's block lowered on its own (compiler/lower/block.ts),
// keeping the parameters under the slot's prefix; counted as `moec stats` counts them (compiler/stats.ts).
import type { Param } from '../../compiler/ir/types.ts';
import { lowerBlock } from '../../compiler/lower/block.ts';
import { GraphBuilder } from '../../compiler/lower/builder.ts';
import { lowerModel } from '../../compiler/lower/model.ts';
import { lowerNorm } from '../../compiler/lower/norm.ts';
import type { ModelSpec } from '../../compiler/spec/types.ts';
import { computeStats } from '../../compiler/stats.ts';
import type { Use } from './component-uses.ts';

export interface ParamCount {
  total: number;
  /** What one token uses (routed experts counted by experts per token / experts). */
  active: number;
}

/** The parameters of the component in `use`, named relative to it (`up`, `router.weight`); undefined when it has none to show. */
export function useParams(model: ModelSpec, use: Use): Param[] | undefined {
  const stack = model[use.stack];
  if (!stack) return undefined;
  if (use.slot === 'stack') {
    return lowerModel(model).params.filter((p) => p.name.startsWith(`${use.stack}.`)).map((p) => rename(p, `${use.stack}.`));
  }
  const b = new GraphBuilder('hover');
  const ids = b.input('input_ids', 'i32', ['batch', 'seq']);
  const x = b.input('x', 'f32', ['batch', 'seq', model.dModel]);
  if (use.slot === 'final_norm') {
    if (!stack.finalNorm) return undefined;
    lowerNorm(b, x, stack.finalNorm, 'N', model.dModel);
    return b.params.map((p) => rename(p, 'N.'));
  }
  const layer = stack.layers[use.layer];
  if (!layer) return undefined;
  lowerBlock(b, x, layer, { prefix: 'L', encoderOut: { x, len: 'seq' }, routers: [], ids, len: 'seq', dModel: model.dModel, vocab: model.vocab, stack: use.stack });
  const params = b.params;
  if (use.slot === 'block') return params.map((p) => rename(p, 'L.'));
  const pattern = {
    attention: /^L\.attn\./, cross_attention: /^L\.cross\./, ffn: /^L\.(ffn|moe|peer)\./, norm: /^L\.\w*norm\./,
  }[use.slot];
  const mine = params.filter((p) => pattern.test(p.name));
  // The block's norm sits at each branch (attn_norm, ffn_norm, …): a layer has one of each.
  if (use.slot === 'norm') return mine.map((p) => rename(p, 'L.'));
  const prefix = pattern.exec(mine[0]?.name ?? '')?.[0];
  return prefix ? mine.filter((p) => p.name.startsWith(prefix)).map((p) => rename(p, prefix)) : [];
}

function rename(p: Param, prefix: string): Param {
  return { ...p, name: p.name.startsWith(prefix) ? p.name.slice(prefix.length) : p.name };
}

export function countParams(params: readonly Param[]): ParamCount {
  const s = computeStats({ name: 'count', inputs: [], params: [...params], nodes: [], outputs: [] });
  return { total: s.total_params, active: s.active_params };
}
