// Elementwise ops: unary functions, broadcasting binary arithmetic, constants and casts.
import { evalDim } from '../../../compiler/ir/dims.ts';
import type { Dim } from '../../../compiler/ir/types.ts';
import { f32, i32, isIntType, numel, strides, type Kernel, type Tensor } from '../tensor.ts';

/** erf with the Abramowitz–Stegun 7.1.26 refinement is too coarse for a 1e-6 oracle; this series/continued form is exact to ~1e-15. */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    // Maclaurin series: erf(x) = 2/√π Σ (-1)^n x^(2n+1) / (n! (2n+1))
    let term = ax;
    let sum = ax;
    const x2 = ax * ax;
    for (let n = 1; n < 60; n++) {
      term *= -x2 / n;
      const t = term / (2 * n + 1);
      sum += t;
      if (Math.abs(t) < 1e-17 * Math.abs(sum)) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // Continued fraction for erfc at larger |x|.
  let f = 0;
  for (let n = 60; n >= 1; n--) f = n / 2 / (ax + f);
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f);
  return Math.sign(x) * (1 - erfc);
}

const unaryFns: Record<string, (x: number) => number> = {
  relu: (x) => (x > 0 ? x : 0),
  gelu: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
  gelu_tanh: (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x))),
  silu: (x) => x / (1 + Math.exp(-x)),
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  tanh: Math.tanh,
  exp: Math.exp,
  log: Math.log,
  neg: (x) => -x,
  sqrt: Math.sqrt,
  rsqrt: (x) => 1 / Math.sqrt(x),
  square: (x) => x * x,
};

const unary = (fn: (x: number) => number): Kernel => ([x]) => {
  const out = new Float32Array(x!.data.length);
  for (let i = 0; i < out.length; i++) out[i] = fn(x!.data[i]!);
  return [f32([...x!.shape], out)];
};

/** Index of each output element in an input broadcast to the output shape. */
function broadcastIndex(inShape: number[], outShape: number[]): Int32Array {
  const n = numel(outShape);
  const idx = new Int32Array(n);
  const rank = outShape.length;
  const padded = [...new Array<number>(rank - inShape.length).fill(1), ...inShape];
  const inStrides = strides(padded).map((s, i) => (padded[i] === 1 ? 0 : s));
  const outStrides = strides(outShape);
  for (let o = 0; o < n; o++) {
    let rem = o;
    let k = 0;
    for (let d = 0; d < rank; d++) {
      const c = Math.floor(rem / outStrides[d]!);
      rem -= c * outStrides[d]!;
      k += c * inStrides[d]!;
    }
    idx[o] = k;
  }
  return idx;
}

export function broadcastShape(a: number[], b: number[]): number[] {
  const n = Math.max(a.length, b.length);
  return Array.from({ length: n }, (_, i) => {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    return x === 1 ? y : x;
  });
}

const binary = (fn: (a: number, b: number) => number): Kernel => ([a, b]) => {
  const shape = broadcastShape(a!.shape, b!.shape);
  const n = numel(shape);
  const same = (t: Tensor) => t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i]);
  const ia = same(a!) ? undefined : broadcastIndex(a!.shape, shape);
  const ib = same(b!) ? undefined : broadcastIndex(b!.shape, shape);
  const out = isIntType(a!.dtype) ? new Int32Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = fn(a!.data[ia ? ia[i]! : i]!, b!.data[ib ? ib[i]! : i]!);
  return [{ dtype: a!.dtype, shape, data: out }];
};

export const elementwiseKernels: Record<string, Kernel> = {
  ...Object.fromEntries(Object.entries(unaryFns).map(([k, fn]) => [k, unary(fn)])),
  add: binary((a, b) => a + b),
  sub: binary((a, b) => a - b),
  mul: binary((a, b) => a * b),
  div: binary((a, b) => a / b),
  maximum: binary(Math.max),
  scale: ([x], at) => unary((v) => v * (at.factor as number))([x!], at, { sizes: {}, outShapes: [] }),
  const: (_, at) => (at.dtype === 'i32' ? [i32([], Int32Array.of(at.value as number))] : [f32([], Float32Array.of(at.value as number))]),
  arange: (_, at, ctx) => {
    const n = evalDim(at.n as Dim, ctx.sizes);
    return [i32([n], Int32Array.from({ length: n }, (_v, i) => i))];
  },
  cast: ([x], at) => {
    const to = at.dtype as Tensor['dtype'];
    if (isIntType(to)) return [{ dtype: to, shape: [...x!.shape], data: Int32Array.from(x!.data, (v) => Math.trunc(v)) }];
    return [{ dtype: to, shape: [...x!.shape], data: Float32Array.from(x!.data) }];
  },
};

export { broadcastIndex };
