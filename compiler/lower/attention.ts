// Attention: multi-head, grouped-query and multi-query (kv_heads), RoPE, T5 relative bias, QK-norm, cross-attention;
// and DeepSeek's multi-head latent attention.
import type { Dim } from '../ir/types.ts';
import type { AttentionSpec, MlaSpec, RopeSpec } from '../spec/types.ts';
import type { GraphBuilder } from './builder.ts';
import { linear } from './ffn.ts';
import { lowerNorm } from './norm.ts';
import { expertOutput, expertValues } from './switchhead.ts';

export interface Sequence {
  /** The hidden states [batch, len, d_model]. */
  x: string;
  len: Dim;
}

function rope(b: GraphBuilder, x: string, r: RopeSpec): string {
  return b.op('rope', [x], { theta: r.theta, rotary_dim: r.rotaryDim, interleaved: r.interleaved });
}

/**
 * `relBiasTable` is the stack's shared T5 bias table when the spec shares it (T5 keeps one table in the
 * first layer and reuses its output in every layer).
 */
export function lowerAttention(
  b: GraphBuilder, query: Sequence, keys: Sequence, spec: AttentionSpec, prefix: string, dModel: number, relBiasTable?: string,
): string {
  const { heads, kvHeads, headDim } = spec;
  const proj = (name: string, n: number, from: Sequence) => linear(b, from.x, `${prefix}.${name}`, n * headDim, dModel, spec.qkvBias);
  let q = proj('q', heads, query);
  let k = proj('k', kvHeads, keys);
  const v = spec.experts ? expertValues(b, keys.x, keys.len, prefix, spec.experts, kvHeads, headDim, dModel) : proj('v', kvHeads, keys);
  if (spec.qkNorm?.scope === 'full') {
    q = lowerNorm(b, q, spec.qkNorm.norm, `${prefix}.q_norm`, heads * headDim);
    k = lowerNorm(b, k, spec.qkNorm.norm, `${prefix}.k_norm`, kvHeads * headDim);
  }
  let q4 = b.op('reshape', [q], { shape: ['batch', query.len, heads, headDim] });
  let k4 = b.op('reshape', [k], { shape: ['batch', keys.len, kvHeads, headDim] });
  const v4 = b.op('reshape', [v], { shape: ['batch', keys.len, kvHeads, headDim] });
  if (spec.qkNorm?.scope === 'head') {
    q4 = lowerNorm(b, q4, spec.qkNorm.norm, `${prefix}.q_norm`, headDim);
    k4 = lowerNorm(b, k4, spec.qkNorm.norm, `${prefix}.k_norm`, headDim);
  }
  if (spec.rope) {
    q4 = rope(b, q4, spec.rope);
    k4 = rope(b, k4, spec.rope);
  }
  const inputs = [q4, k4, v4];
  if (spec.relativeBias) {
    const table = relBiasTable ?? b.param(`${prefix}.rel_bias`, [spec.relativeBias.buckets, heads]);
    inputs.push(b.op('relative_bias', [table], {
      bidirectional: spec.relativeBias.bidirectional, max_distance: spec.relativeBias.maxDistance, q_len: query.len, k_len: keys.len,
    }));
  }
  const o = b.op('attention', inputs, { causal: spec.causal, scale: spec.scale });
  const flat = b.op('reshape', [o], { shape: ['batch', query.len, heads * headDim] });
  if (spec.experts) return expertOutput(b, flat, query.x, query.len, prefix, spec.experts, heads, headDim, dModel);
  return linear(b, flat, `${prefix}.o`, dModel, heads * headDim, spec.outBias);
}

/** DeepSeek-V2 §2.1: q = W_qb·norm(W_qa·x); [c_kv, k_rope] = W_kva·x; [k_nope, v] = W_kvb·norm(c_kv); k_rope is shared by all heads. */
export function lowerMla(b: GraphBuilder, x: Sequence, spec: MlaSpec, prefix: string, dModel: number): string {
  const { heads, qkNopeDim: nope, qkRopeDim: rot, vDim, kvLoraRank } = spec;
  const qkDim = nope + rot;
  let q: string;
  if (spec.qLoraRank > 0) {
    const qa = linear(b, x.x, `${prefix}.q_a`, spec.qLoraRank, dModel, false);
    q = linear(b, lowerNorm(b, qa, spec.norm, `${prefix}.q_a_norm`, spec.qLoraRank), `${prefix}.q_b`, heads * qkDim, spec.qLoraRank, false);
  } else {
    q = linear(b, x.x, `${prefix}.q`, heads * qkDim, dModel, false);
  }
  const q4 = b.op('reshape', [q], { shape: ['batch', x.len, heads, qkDim] });
  const qNope = b.op('slice', [q4], { axis: 3, start: 0, end: nope });
  const qRope = rope(b, b.op('slice', [q4], { axis: 3, start: nope, end: qkDim }), spec.rope);

  const kva = linear(b, x.x, `${prefix}.kv_a`, kvLoraRank + rot, dModel, false);
  const ckv = b.op('slice', [kva], { axis: 2, start: 0, end: kvLoraRank });
  const kRope3 = b.op('slice', [kva], { axis: 2, start: kvLoraRank, end: kvLoraRank + rot });
  const kRope = rope(b, b.op('reshape', [kRope3], { shape: ['batch', x.len, 1, rot] }), spec.rope);
  const kvb = linear(b, lowerNorm(b, ckv, spec.norm, `${prefix}.kv_a_norm`, kvLoraRank), `${prefix}.kv_b`, heads * (nope + vDim), kvLoraRank, false);
  const kv4 = b.op('reshape', [kvb], { shape: ['batch', x.len, heads, nope + vDim] });
  const kNope = b.op('slice', [kv4], { axis: 3, start: 0, end: nope });
  const v = b.op('slice', [kv4], { axis: 3, start: nope, end: nope + vDim });
  const k = b.op('concat', [kNope, b.op('expand', [kRope], { shape: ['batch', x.len, heads, rot] })], { axis: 3 });
  const qFull = b.op('concat', [qNope, qRope], { axis: 3 });
  const o = b.op('attention', [qFull, k, v], { causal: spec.causal, scale: spec.scale });
  const flat = b.op('reshape', [o], { shape: ['batch', x.len, heads * vDim] });
  return linear(b, flat, `${prefix}.o`, dModel, heads * vDim, false);
}
