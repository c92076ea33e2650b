// Embedding, linear and batched matmul on hand-computed values.
import { describe, expect, it } from 'vitest';
import type { Attr } from '../../compiler/ir/types.ts';
import { kernels, tensorOf, type Tensor } from '../../runtime/reference/index.ts';

const run = (op: string, ins: Tensor[], attrs: Record<string, Attr> = {}): Tensor => kernels[op]!(ins, attrs, { sizes: {}, outShapes: [] })[0]!;
const f32 = (shape: number[], v: number[]) => tensorOf('f32', shape, v);
const values = (t: Tensor) => Array.from(t.data);

describe('embedding', () => {
  it('picks table rows by id: ids [[2], [0]] → [[[4, 5]], [[0, 1]]]', () => {
    const table = f32([3, 2], [0, 1, 2, 3, 4, 5]);
    const y = run('embedding', [tensorOf('i32', [2, 1], [2, 0]), table]);
    expect(y.shape).toEqual([2, 1, 2]);
    expect(values(y)).toEqual([4, 5, 0, 1]);
    expect(() => run('embedding', [tensorOf('i32', [1], [3]), table])).toThrow(/token id 3 is outside the embedding table of 3 rows/);
  });
});

describe('linear: y = x · wᵀ + b, w [out, in]', () => {
  // x = [[1, 2, 3], [4, 5, 6]], w = [[1, 0, -1], [0.5, 0.5, 0.5]]
  // x·wᵀ = [[1 - 3, 0.5·6], [4 - 6, 0.5·15]] = [[-2, 3], [-2, 7.5]]
  const x = f32([2, 3], [1, 2, 3, 4, 5, 6]);
  const w = f32([2, 3], [1, 0, -1, 0.5, 0.5, 0.5]);

  it('without bias', () => {
    const y = run('linear', [x, w]);
    expect(y.shape).toEqual([2, 2]);
    expect(values(y)).toEqual([-2, 3, -2, 7.5]);
  });

  it('with bias [10, 20]', () => {
    expect(values(run('linear', [x, w, f32([2], [10, 20])]))).toEqual([8, 23, 8, 27.5]);
  });

  it('keeps leading axes: [2, 1, 3] → [2, 1, 2]', () => {
    expect(run('linear', [f32([2, 1, 3], [1, 2, 3, 4, 5, 6]), w]).shape).toEqual([2, 1, 2]);
  });

  it('accumulates each dot product in float64: [1e8, 1, -1e8] · [1, 1, 1] = 1', () => {
    expect(values(run('linear', [f32([1, 3], [1e8, 1, -1e8]), f32([1, 3], [1, 1, 1])]))).toEqual([1]);
  });

  it('a weight of the wrong width is an error', () => {
    expect(() => run('linear', [x, f32([2, 2], [1, 2, 3, 4])])).toThrow(/does not take inputs f32\[2, 3\]/);
  });
});

describe('matmul', () => {
  const a = f32([2, 2], [1, 2, 3, 4]);
  const b = f32([2, 2], [5, 6, 7, 8]);

  it('[[1, 2], [3, 4]] · [[5, 6], [7, 8]] = [[19, 22], [43, 50]]', () => {
    expect(values(run('matmul', [a, b]))).toEqual([19, 22, 43, 50]);
  });

  it('transpose_b: a · bᵀ = [[1·5 + 2·6, 1·7 + 2·8], [3·5 + 4·6, 3·7 + 4·8]] = [[17, 23], [39, 53]]', () => {
    expect(values(run('matmul', [a, b], { transpose_b: true }))).toEqual([17, 23, 39, 53]);
  });

  it('batch axes broadcast both ways: [2, 1, 1, 2] · [1, 3, 2, 1] → [2, 3, 1, 1]', () => {
    // a₀ = [1, 2], a₁ = [3, 4]; b_j = [j + 1, 1]ᵀ for j = 0, 1, 2
    // a₀·b_j = j + 1 + 2 = [3, 4, 5]; a₁·b_j = 3(j + 1) + 4 = [7, 10, 13]
    const y = run('matmul', [f32([2, 1, 1, 2], [1, 2, 3, 4]), f32([1, 3, 2, 1], [1, 1, 2, 1, 3, 1])]);
    expect(y.shape).toEqual([2, 3, 1, 1]);
    expect(values(y)).toEqual([3, 4, 5, 7, 10, 13]);
  });

  it('a rank-2 operand broadcasts against a batch', () => {
    // [[1, 0], [0, 1]] batched twice times b: b itself, twice
    const y = run('matmul', [f32([2, 2, 2], [1, 0, 0, 1, 2, 0, 0, 2]), b]);
    expect(values(y)).toEqual([5, 6, 7, 8, 10, 12, 14, 16]);
  });

  it('inner dimensions must agree', () => {
    expect(() => run('matmul', [a, f32([3, 1], [1, 2, 3])])).toThrow(/inner dimensions differ/);
  });
});
