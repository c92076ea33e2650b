// PEER (He 2024, "Mixture of A Million Experts", §2) in graph ops: per head a query, its halves scored against two
// sub-key tables, product-key top-k (Lample et al. 2019, §3.2), a softmax over the k picks, and the picked experts'
// rows of u and v gathered: f(x) = Σ_heads Σ_i g_i · σ(u_iᵀx) · v_i, two batched matrix-vector products per token.
import type { Dim } from '../ir/types.ts';
import type { PeerSpec } from '../spec/types.ts';
import type { GraphBuilder } from './builder.ts';

export interface PeerContext {
  len: Dim;
  dModel: number;
}

/** Product-key retrieval (§2): scores [tokens, heads, k] and expert indices [tokens, heads·k]. */
function retrieve(b: GraphBuilder, x2: string, spec: PeerSpec, prefix: string, tokens: Dim, dModel: number): { scores: string; experts: string } {
  const { heads, keyDim, subKeys, topK } = spec;
  const half = keyDim / 2;
  // The query network: a plain linear map (the paper batch-normalises the query; moec does not).
  const q = b.op('reshape', [b.op('linear', [x2, b.param(`${prefix}.query`, [heads * keyDim, dModel])])], { shape: [tokens, heads, keyDim] });
  // Both sub-key tables are shared by the heads (as the product keys of Lample et al. are).
  const score = (name: string, start: number) =>
    b.op('linear', [b.op('slice', [q], { axis: 2, start, end: start + half }), b.param(`${prefix}.${name}`, [subKeys, half])]);
  const [scores, indices] = b.opN('product_topk', [score('keys1', 0), score('keys2', half)], 2, { k: topK }) as [string, string];
  return { scores, experts: b.op('reshape', [indices], { shape: [tokens, heads * topK] }) };
}

export function lowerPeer(b: GraphBuilder, x: string, spec: PeerSpec, prefix: string, ctx: PeerContext): string {
  const { dModel } = ctx;
  const tokens = `batch*${ctx.len}`;
  const picks = spec.heads * spec.topK;
  const x2 = b.op('reshape', [x], { shape: [tokens, dModel] });
  const { scores, experts } = retrieve(b, x2, spec, prefix, tokens, dModel);
  // Router weights: a softmax over each head's k picks (§2).
  const g = b.op('reshape', [b.op('softmax', [scores], { axis: -1 })], { shape: [tokens, 1, picks] });
  // The experts' weights, shared by every head: u_i (down to one neuron) and v_i (back up), [N, d_model] each. A
  // token reads heads·k rows of each, so per_token makes `moec stats` count heads·k·d_model of each as active.
  const table = (name: string) => b.param(`${prefix}.${name}`, [spec.experts, dModel], { experts: spec.experts, per_token: picks });
  const u = b.op('gather_rows', [table('down'), experts]);
  const v = b.op('gather_rows', [table('up'), experts]);
  // σ(u_iᵀx) for the heads·k picks, as [tokens, 1, d] · [tokens, heads·k, d]ᵀ, then Σ g_i σ(…) v_i as [tokens, 1, heads·k] · [tokens, heads·k, d].
  const h = b.op(spec.act, [b.op('matmul', [b.op('reshape', [x2], { shape: [tokens, 1, dModel] }), u], { transpose_b: true })]);
  const y = b.op('matmul', [b.op('mul', [h, g]), v]);
  return b.op('reshape', [y], { shape: ['batch', ctx.len, dModel] });
}
