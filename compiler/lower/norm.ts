// Norms: RMSNorm and LayerNorm over the last axis.
import type { NormSpec } from '../spec/types.ts';
import type { GraphBuilder } from './builder.ts';

export function lowerNorm(b: GraphBuilder, x: string, spec: NormSpec, prefix: string, width: number): string {
  const w = b.param(`${prefix}.weight`, [width]);
  if (spec.kind === 'rmsnorm') return b.op('rms_norm', [x, w], { eps: spec.eps });
  const inputs = [x, w];
  if (spec.bias) inputs.push(b.param(`${prefix}.bias`, [width]));
  return b.op('layer_norm', inputs, { eps: spec.eps });
}
