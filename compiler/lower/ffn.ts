// Dense feed-forward networks, plain or gated (GLU variants, Shazeer 2020): down(act(gate(x)) ⊙ up(x)).
import type { FfnSpec } from '../spec/types.ts';
import type { GraphBuilder } from './builder.ts';

export function linear(b: GraphBuilder, x: string, prefix: string, out: number, inp: number, bias: boolean): string {
  const inputs = [x, b.param(`${prefix}.weight`, [out, inp])];
  if (bias) inputs.push(b.param(`${prefix}.bias`, [out]));
  return b.op('linear', inputs);
}

export function lowerFfn(b: GraphBuilder, x: string, spec: FfnSpec, prefix: string, dModel: number): string {
  const up = linear(b, x, `${prefix}.up`, spec.hidden, dModel, spec.bias);
  let h: string;
  if (spec.gated) {
    const gate = linear(b, x, `${prefix}.gate`, spec.hidden, dModel, spec.bias);
    h = b.op('mul', [b.op(spec.act, [gate]), up]);
  } else {
    h = b.op(spec.act, [up]);
  }
  return linear(b, h, `${prefix}.down`, dModel, spec.hidden, spec.bias);
}
