// The checked PEER layer (He 2024, "Mixture of A Million Experts", §2): N single-neuron experts retrieved with
// product keys, so N must be a square (√N sub-keys per half, Lample et al. 2019, §3.2) and a head's top_k at most √N.
import type { Diagnostic } from '../../dsl/diagnostics.ts';
import { Fields } from './fields.ts';
import type { EvalContext, ObjectValue } from './values.ts';
import type { Activation, PeerSpec } from './types.ts';

/** √n when n is a perfect square, else undefined. */
export function exactSqrt(n: number): number | undefined {
  const r = Math.round(Math.sqrt(n));
  return r * r === n ? r : undefined;
}

export function buildPeer(obj: ObjectValue, ctx: EvalContext, diags: Diagnostic[]): PeerSpec {
  const f = new Fields(obj, 'peer', ctx, diags);
  const experts = f.int('experts', 1);
  let subKeys = exactSqrt(experts);
  if (subKeys === undefined) {
    const below = Math.floor(Math.sqrt(experts));
    f.fail('experts', `peer.experts (${experts}) must be a perfect square: experts are the pairs of two product-key tables of √experts keys`, `e.g. ${below * below} = ${below}*${below} or ${(below + 1) ** 2} = ${below + 1}*${below + 1}`);
    subKeys = Math.max(1, below);
  }
  const topK = f.int('top_k', 16);
  if (topK > subKeys) f.fail('top_k', `peer.top_k (${topK}) exceeds √experts (${subKeys})`, 'each head takes its top_k from the top_k best keys of each √experts-key table');
  const keyDim = f.int('key_dim', 128, 2);
  if (keyDim % 2 !== 0) f.fail('key_dim', `peer.key_dim (${keyDim}) must be even: its two halves query the two sub-key tables`);
  const act: Activation = f.oneOf('act', ['relu', 'gelu', 'gelu_tanh', 'silu', 'sigmoid'] as const, 'relu');
  return { kind: 'peer', experts, subKeys, heads: f.int('heads', 8), topK: Math.min(topK, subKeys), keyDim: keyDim - (keyDim % 2), act };
}
