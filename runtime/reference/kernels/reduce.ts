// Reductions and softmax along one axis. Sums accumulate in float64 and round once to float32, so a reduction
// over a few thousand elements is correctly rounded to within an ulp; exponentials are max-shifted.
import { around, axisOf, requireFloat, tensorOf, type Kernel, type Tensor } from '../tensor.ts';
import type { Attr } from '../../../compiler/ir/types.ts';

function reducedShape(shape: readonly number[], axis: number, keepdims: boolean): number[] {
  const out = shape.filter((_, d) => d !== axis);
  if (keepdims) out.splice(axis, 0, 1);
  return out;
}

/** Applies `fold` to every line along `axis`; the line is read through `at(k)`. */
function reduceLines(x: Tensor, attrs: Record<string, Attr>, fold: (at: (k: number) => number, n: number) => number): Tensor {
  const axis = axisOf(x.shape.length, attrs.axis);
  const [outer, n, inner] = around(x.shape, axis);
  const out = new Float64Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) out[o * inner + i] = fold((k) => x.data[(o * n + k) * inner + i]!, n);
  }
  return tensorOf(x.dtype, reducedShape(x.shape, axis, attrs.keepdims === true), out);
}

function sum(at: (k: number) => number, n: number): number {
  let s = 0;
  for (let k = 0; k < n; k++) s += at(k);
  return s;
}

/** Maximum that propagates NaN, as torch.max does. */
function max(at: (k: number) => number, n: number): number {
  let m = -Infinity;
  for (let k = 0; k < n; k++) {
    const v = at(k);
    if (v > m || Number.isNaN(v)) m = v;
    if (Number.isNaN(m)) break;
  }
  return m;
}

/** log Σ e^x = m + log Σ e^(x - m) with m = max x; an infinite m is the answer itself (and avoids ∞ - ∞). */
export function logSumExp(at: (k: number) => number, n: number): number {
  const m = max(at, n);
  if (!Number.isFinite(m)) return m;
  let s = 0;
  for (let k = 0; k < n; k++) s += Math.exp(at(k) - m);
  return m + Math.log(s);
}

export function softmax(x: Tensor, axisAttr: Attr | undefined): Tensor {
  requireFloat(x, 'the operand of softmax');
  const axis = axisOf(x.shape.length, axisAttr);
  const [outer, n, inner] = around(x.shape, axis);
  const out = new Float32Array(x.data.length);
  const e = new Float64Array(n);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const at = (k: number) => (o * n + k) * inner + i;
      const m = max((k) => x.data[at(k)]!, n);
      let s = 0;
      for (let k = 0; k < n; k++) s += e[k] = Math.exp(x.data[at(k)]! - m);
      for (let k = 0; k < n; k++) out[at(k)] = e[k]! / s;
    }
  }
  return { dtype: x.dtype, shape: [...x.shape], data: out };
}

export const reduceKernels: Record<string, Kernel> = {
  reduce_sum: ([x], at) => [reduceLines(x!, at, sum)],
  reduce_mean: ([x], at) => [reduceLines(x!, at, (line, n) => sum(line, n) / n)],
  reduce_max: ([x], at) => [reduceLines(x!, at, max)],
  logsumexp: ([x], at) => {
    requireFloat(x!, 'the operand of logsumexp');
    return [reduceLines(x!, at, logSumExp)];
  },
  softmax: ([x], at) => [softmax(x!, at.axis)],
};
