// Product-key retrieval (Lample et al. 2019, "Large Memory Layers with Product Keys", §3.2), as PEER uses it to pick
// experts from N = n1 · n2 (He 2024, "Mixture of A Million Experts", §2): the k best of each half's scores, then
// the k best of their k × k sums. Index a · n2 + b names the pair (a, b).
import { allocLike, describe, intAttr, requireFloat, type Kernel } from '../tensor.ts';
import { topkIndices } from './routing.ts';

export interface ProductPick {
  score: number;
  index: number;
}

/**
 * The k best pairs of one row, largest score first, ties to the lower index a · n2 + b. The sums are rounded to f32,
 * as the compiled kernels add them, so both order nearly-equal candidates alike.
 */
export function productTopk(s1: ArrayLike<number>, s2: ArrayLike<number>, k: number): ProductPick[] {
  const n2 = s2.length;
  const best2 = topkIndices(s2, k);
  const picks: ProductPick[] = [];
  for (const a of topkIndices(s1, k)) for (const b of best2) picks.push({ score: Math.fround(s1[a]! + s2[b]!), index: a * n2 + b });
  const key = (v: number) => (Number.isNaN(v) ? Infinity : v);
  picks.sort((p, q) => key(q.score) - key(p.score) || p.index - q.index);
  return picks.slice(0, k);
}

export const productKeyKernels: Record<string, Kernel> = {
  product_topk: ([s1, s2], at) => {
    requireFloat(s1!, 'product_topk s1');
    requireFloat(s2!, 'product_topk s2');
    const k = intAttr(at, 'k');
    const n1 = s1!.shape[s1!.shape.length - 1] ?? 0;
    const n2 = s2!.shape[s2!.shape.length - 1] ?? 0;
    const lead = s1!.shape.slice(0, -1);
    if (s1!.shape.length === 0 || lead.length !== s2!.shape.length - 1 || lead.some((d, i) => d !== s2!.shape[i])) {
      throw new Error(`product_topk: ${describe(s1!)} and ${describe(s2!)} differ in their leading axes`);
    }
    if (!(k >= 1 && k <= n1 && k <= n2)) throw new Error(`product_topk: k = ${k} is out of range for sub-key axes of ${n1} and ${n2}`);
    const rows = lead.reduce((a, b) => a * b, 1);
    const values = allocLike(s1!, rows * k);
    const indices = new Int32Array(rows * k);
    for (let r = 0; r < rows; r++) {
      productTopk(s1!.data.subarray(r * n1, (r + 1) * n1), s2!.data.subarray(r * n2, (r + 1) * n2), k).forEach((p, j) => {
        values[r * k + j] = p.score;
        indices[r * k + j] = p.index;
      });
    }
    const shape = [...lead, k];
    return [{ dtype: s1!.dtype, shape, data: values }, { dtype: 'i32', shape, data: indices }];
  },
};
