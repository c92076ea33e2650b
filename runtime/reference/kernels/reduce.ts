// Reductions and softmax along one axis, accumulated in float64.
import { around, axisOf, f32, type Kernel } from '../tensor.ts';

const reduce = (init: number, step: (acc: number, v: number) => number, finish: (acc: number, n: number) => number): Kernel => ([x], at) => {
  const axis = axisOf(x!.shape.length, at.axis);
  const [outer, n, inner] = around(x!.shape, axis);
  const out = new Float32Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let acc = init;
      for (let k = 0; k < n; k++) acc = step(acc, x!.data[(o * n + k) * inner + i]!);
      out[o * inner + i] = finish(acc, n);
    }
  }
  const shape = x!.shape.filter((_, d) => d !== axis);
  if (at.keepdims === true) shape.splice(axis, 0, 1);
  return [f32(shape, out)];
};

function softmaxAlong(data: ArrayLike<number>, out: Float32Array, outer: number, n: number, inner: number, log: boolean): void {
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const at = (k: number) => (o * n + k) * inner + i;
      let max = -Infinity;
      for (let k = 0; k < n; k++) max = Math.max(max, data[at(k)]!);
      let sum = 0;
      for (let k = 0; k < n; k++) sum += Math.exp(data[at(k)]! - max);
      for (let k = 0; k < n; k++) out[at(k)] = log ? data[at(k)]! - max - Math.log(sum) : Math.exp(data[at(k)]! - max) / sum;
    }
  }
}

export const reduceKernels: Record<string, Kernel> = {
  reduce_sum: reduce(0, (a, v) => a + v, (a) => a),
  reduce_mean: reduce(0, (a, v) => a + v, (a, n) => a / n),
  reduce_max: reduce(-Infinity, Math.max, (a) => a),
  logsumexp: ([x], at, ctx) => {
    const max = reduce(-Infinity, Math.max, (a) => a)([x!], { ...at, keepdims: true }, ctx)[0]!;
    const axis = axisOf(x!.shape.length, at.axis);
    const [outer, n, inner] = around(x!.shape, axis);
    const out = new Float32Array(outer * inner);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const m = max.data[o * inner + i]!;
        let s = 0;
        for (let k = 0; k < n; k++) s += Math.exp(x!.data[(o * n + k) * inner + i]! - m);
        out[o * inner + i] = m + Math.log(s);
      }
    }
    const shape = x!.shape.filter((_, d) => d !== axis);
    if (at.keepdims === true) shape.splice(axis, 0, 1);
    return [f32(shape, out)];
  },
  softmax: ([x], at) => {
    const axis = axisOf(x!.shape.length, at.axis);
    const [outer, n, inner] = around(x!.shape, axis);
    const out = new Float32Array(x!.data.length);
    softmaxAlong(x!.data, out, outer, n, inner, false);
    return [f32([...x!.shape], out)];
  },
};

export { softmaxAlong };
