// product_topk, the product-key top-k of PEER (He 2024, §2) and of Lample et al. 2019 (§3.2), on cases worked out
// by hand, against a search over every pair, and as the op table types it.
import { describe, expect, it } from 'vitest';
import { ops } from '../../compiler/ir/ops.ts';
import type { Dim } from '../../compiler/ir/types.ts';
import { kernels, mulberry32, tensorOf, type Tensor } from '../../runtime/reference/index.ts';

const ctx = { sizes: {}, outShapes: [] };
const run = (s1: Tensor, s2: Tensor, k: number) => kernels.product_topk!([s1, s2], { k }, ctx) as [Tensor, Tensor];

describe('product_topk', () => {
  it('n1 = n2 = 3, k = 2, by hand', () => {
    // Row 0: s1 = [1, 5, 3] keeps a = 1, 2; s2 = [2, 0, 4] keeps b = 2, 0. Pair sums (index a·3 + b):
    //   (1,2) = 9 → 5, (1,0) = 7 → 3, (2,2) = 7 → 8, (2,0) = 5 → 6. The best two: 9 at 5, then the tie 7 at 3 (< 8).
    // Row 1: s1 = [2, 2, 1] keeps a = 0, 1 (a tie: the lower index first); s2 = [0, 3, 3] keeps b = 1, 2.
    //   All four pairs sum to 5: indices 1, 2, 4, 5; the two lowest win.
    const s1 = tensorOf('f32', [2, 3], [1, 5, 3, 2, 2, 1]);
    const s2 = tensorOf('f32', [2, 3], [2, 0, 4, 0, 3, 3]);
    const [values, indices] = run(s1, s2, 2);
    expect(values.shape).toEqual([2, 2]);
    expect(indices.dtype).toBe('i32');
    expect(Array.from(values.data)).toEqual([9, 7, 5, 5]);
    expect(Array.from(indices.data)).toEqual([5, 3, 1, 2]);
  });

  it('equals the top k of all n1 · n2 sums (no ties), over leading axes [2, 3]', () => {
    const rand = mulberry32(7);
    const [n1, n2, k, rows] = [6, 5, 4, 6];
    const s1 = tensorOf('f32', [2, 3, n1], Array.from({ length: rows * n1 }, () => rand() * 2 - 1));
    const s2 = tensorOf('f32', [2, 3, n2], Array.from({ length: rows * n2 }, () => rand() * 2 - 1));
    const [values, indices] = run(s1, s2, k);
    expect(values.shape).toEqual([2, 3, k]);
    for (let r = 0; r < rows; r++) {
      const all = Array.from({ length: n1 * n2 }, (_, i) => ({ i, v: Math.fround(s1.data[r * n1 + Math.floor(i / n2)]! + s2.data[r * n2 + (i % n2)]!) }));
      all.sort((p, q) => q.v - p.v || p.i - q.i);
      expect(Array.from(indices.data.subarray(r * k, (r + 1) * k))).toEqual(all.slice(0, k).map((p) => p.i));
      expect(Array.from(values.data.subarray(r * k, (r + 1) * k))).toEqual(all.slice(0, k).map((p) => p.v));
    }
  });

  it('rejects k larger than a sub-key axis, and mismatched leading axes', () => {
    expect(() => run(tensorOf('f32', [1, 3], [0, 0, 0]), tensorOf('f32', [1, 2], [0, 0]), 3)).toThrow(/out of range/);
    expect(() => run(tensorOf('f32', [1, 3], [0, 0, 0]), tensorOf('f32', [3], [0, 0, 0]), 2)).toThrow(/leading axes/);
    const f = (shape: Dim[]) => ({ dtype: 'f32' as const, shape });
    expect(ops.product_topk!.infer([f(['batch*seq', 8, 32]), f(['batch*seq', 8, 32])], { k: 16 })).toEqual([
      { dtype: 'f32', shape: ['batch*seq', 8, 16] }, { dtype: 'i32', shape: ['batch*seq', 8, 16] },
    ]);
    expect(ops.product_topk!.infer([f([4, 3]), f([4, 3])], { k: 4 })).toMatch(/out of range/);
    expect(ops.product_topk!.infer([f([4, 3]), f([5, 3])], { k: 2 })).toMatch(/leading axes/);
  });
});
