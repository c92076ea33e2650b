// Parameter and FLOP counts, read off the graph IR: parameters from its declarations, FLOPs from the op table.
import { evalDim, numel } from './ir/dims.ts';
import { ops } from './ir/ops.ts';
import type { Graph, TensorType } from './ir/types.ts';
import { typeEnvironment } from './ir/verify.ts';

export interface ModelStats {
  model: string;
  total_params: number;
  /** Routed expert weights only (shared experts and routers are not routed). */
  expert_params: number;
  /** Parameters one token uses: everything but the routed experts, plus each MoE layer's experts × (experts per token / experts). */
  active_params: number;
  /** Forward FLOPs per token at `seq` tokens (one sequence), matrix products only, a multiply-add counted as 2. */
  flops_per_token: number;
  seq: number;
  /** Parameters by top-level component (embed, encoder, decoder, head). */
  params_by_component: Record<string, number>;
}

export function computeStats(g: Graph, seq = 2048): ModelStats {
  const sizes = { batch: 1, seq, dec_seq: seq };
  let total = 0;
  let expert = 0;
  let active = 0;
  const byComponent: Record<string, number> = {};
  for (const p of g.params) {
    if (p.attrs.buffer === true) continue;
    const n = evalDim(numel(p.type.shape), sizes);
    total += n;
    const component = p.name.split('.')[0]!;
    byComponent[component] = (byComponent[component] ?? 0) + n;
    const experts = p.attrs.experts;
    if (typeof experts === 'number') {
      expert += n;
      const perToken = typeof p.attrs.per_token === 'number' ? p.attrs.per_token : experts;
      active += (n * Math.min(perToken, experts)) / experts;
    } else {
      active += n;
    }
  }
  const env = typeEnvironment(g);
  let flops = 0;
  for (const n of g.nodes) {
    const spec = ops[n.op];
    if (!spec?.flops) continue;
    const ins = n.inputs.map((r) => env.get(r)).filter((t): t is TensorType => t !== undefined);
    if (!n.types) throw new Error(`stats need types: run shape-inference first (node ${n.outputs.join(', ')} = ${n.op})`);
    flops += evalDim(spec.flops(ins, n.types, n.attrs), sizes);
  }
  return {
    model: g.name, total_params: total, expert_params: expert, active_params: Math.round(active),
    flops_per_token: Math.round(flops / seq), seq, params_by_component: byComponent,
  };
}
