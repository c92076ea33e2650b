// SwitchHead (Csordás et al., "SwitchHead: Accelerating Transformers with Mixture-of-Experts Attention", NeurIPS 2024,
// §3): each head's value and output projections are mixtures of `experts` linear maps. A sigmoid router per head
// picks the top k for every token — on the key/value side for the values, on the query side for the output — and
// scales each chosen map by its score (no renormalisation). Queries and keys stay dense. Each (head, projection) is
// one MoE over the tokens through dispatch → grouped_linear → combine, so only the chosen maps are computed and
// counted, exactly as for an FFN mixture.
import type { Dim } from '../ir/types.ts';
import type { GraphBuilder } from './builder.ts';

export interface HeadExperts {
  experts: number;
  topK: number;
}

/** One head's mixture of linear maps over rows x2 [tokens, inp] → [tokens, out], routed by `by` [tokens, dModel]. */
function headMixture(b: GraphBuilder, x2: string, by: string, prefix: string, e: HeadExperts, out: number, inp: number, dModel: number): string {
  const scores = b.op('sigmoid', [b.op('linear', [by, b.param(`${prefix}.router`, [e.experts, dModel])])]);
  const [weights, indices] = b.opN('topk', [scores], 2, { k: e.topK }) as [string, string];
  const [rows, offsets, slots] = b.opN('dispatch', [x2, indices], 3, { experts: e.experts }) as [string, string, string];
  const w = b.param(`${prefix}.weight`, [e.experts, out, inp], { experts: e.experts, per_token: e.topK });
  return b.op('combine', [b.op('grouped_linear', [rows, w, offsets]), slots, weights]);
}

/** The values [batch, len, heads · headDim]: head h's map chosen from x by its own router. */
export function expertValues(b: GraphBuilder, x: string, len: Dim, prefix: string, e: HeadExperts, heads: number, headDim: number, dModel: number): string {
  const x2 = b.op('reshape', [x], { shape: [`batch*${len}`, dModel] });
  const perHead = Array.from({ length: heads }, (_, h) => headMixture(b, x2, x2, `${prefix}.v_experts.${h}`, e, headDim, dModel, dModel));
  const v = heads === 1 ? perHead[0]! : b.op('concat', perHead, { axis: 1 });
  return b.op('reshape', [v], { shape: ['batch', len, heads * headDim] });
}

/** The output [batch, len, dModel] = Σ_h head h's chosen maps of its attention output, routed by the query input. */
export function expertOutput(b: GraphBuilder, attended: string, query: string, len: Dim, prefix: string, e: HeadExperts, heads: number, headDim: number, dModel: number): string {
  const o2 = b.op('reshape', [attended], { shape: [`batch*${len}`, heads * headDim] });
  const q2 = b.op('reshape', [query], { shape: [`batch*${len}`, dModel] });
  let y: string | undefined;
  for (let h = 0; h < heads; h++) {
    const head = heads === 1 ? o2 : b.op('slice', [o2], { axis: 1, start: h * headDim, end: (h + 1) * headDim });
    const part = headMixture(b, head, q2, `${prefix}.o_experts.${h}`, e, dModel, headDim, dModel);
    y = y === undefined ? part : b.op('add', [y, part]);
  }
  return b.op('reshape', [y!], { shape: ['batch', len, dModel] });
}
