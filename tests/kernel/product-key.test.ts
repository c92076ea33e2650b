// product_topk's loop nest (compiler/kernel/ops/product-key.ts), run by the kernel interpreter, against the
// reference kernel: the same values and indices exactly, ties included (among each half's scores and among the pair
// sums, where the lower expert index a · n2 + b must win, not the lower candidate number).
import { describe, expect, it } from 'vitest';
import { parseGraph } from '../../compiler/ir/parse.ts';
import { runProgram } from '../../compiler/kernel/interpret.ts';
import { scheduleGraph } from '../../compiler/kernel/schedule.ts';
import { shapeInference } from '../../compiler/passes/shape-inference.ts';
import { kernels, mulberry32, tensorOf, type Tensor } from '../../runtime/reference/index.ts';

const program = (n1: number, n2: number, k: number) => scheduleGraph(shapeInference.run(parseGraph(`graph p {
  input %s1: f32[rows, ${n1}]
  input %s2: f32[rows, ${n2}]
  %0, %1 = product_topk(%s1, %s2) {k = ${k}}
  output v = %0
  output i = %1
}`)));

function compare(rows: number, n1: number, n2: number, k: number, s1: Float32Array, s2: Float32Array): void {
  const got = runProgram(program(n1, n2, k), { params: () => new Float32Array(0), inputs: { s1, s2 }, sizes: { rows } });
  const [v, i] = kernels.product_topk!([tensorOf('f32', [rows, n1], s1), tensorOf('f32', [rows, n2], s2)], { k }, { sizes: {}, outShapes: [] }) as [Tensor, Tensor];
  expect(Array.from(got.i!)).toEqual(Array.from(i.data));
  expect(Array.from(got.v!)).toEqual(Array.from(v.data));
}

describe('product_topk as a loop nest', () => {
  it('the hand-worked case of tests/reference/product-key.test.ts', () => {
    compare(2, 3, 3, 2, Float32Array.from([1, 5, 3, 2, 2, 1]), Float32Array.from([2, 0, 4, 0, 3, 3]));
  });

  it('ties everywhere: small integer scores, k = 3 of 4 × 5', () => {
    const rand = mulberry32(5);
    const ints = (n: number) => Float32Array.from({ length: n }, () => Math.floor(rand() * 3));
    compare(40, 4, 5, 3, ints(40 * 4), ints(40 * 5));
  });

  it('random scores, k = 4 of 6 × 6', () => {
    const rand = mulberry32(9);
    const floats = (n: number) => Float32Array.from({ length: n }, () => rand() * 2 - 1);
    compare(10, 6, 6, 4, floats(60), floats(60));
  });
});
