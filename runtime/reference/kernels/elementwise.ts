// Elementwise ops: unary functions, broadcasting binary arithmetic, scale, constants, arange and casts.
// Each value is computed in float64 and rounded once to float32 when stored.
import {
  broadcastIndex, broadcastShape, describe, dimAttr, dtypeAttr, isFloatType, numberAttr, requireFloat, tensorOf,
  type Kernel, type Tensor,
} from '../tensor.ts';
import type { DType } from '../../../compiler/ir/types.ts';

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/**
 * erfc to ~1e-15 relative: the Maclaurin series of erf below |x| = 2.5 (where its terms stay small enough not to
 * cancel), and above it the continued fraction erfc(x) = e^(-x²)/√π · 1/(x + ½/(x + 1/(x + 3/2/(x + …))))
 * (Abramowitz & Stegun 7.1.26 is only good to 1.5e-7, too coarse for an oracle).
 */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax < 2.5) return 1 - erfSeries(x);
  let f = 0;
  for (let n = 60; n >= 1; n--) f = n / 2 / (ax + f);
  const tail = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f);
  return x > 0 ? tail : 2 - tail;
}

/** erf(x) = 2/√π Σ (-1)^n x^(2n+1) / (n! (2n+1)), for |x| < 2.5. */
export function erfSeries(x: number): number {
  let term = x;
  let sum = x;
  const x2 = x * x;
  for (let n = 1; n < 80; n++) {
    term *= -x2 / n;
    const t = term / (2 * n + 1);
    sum += t;
    if (Math.abs(t) < 1e-17 * Math.abs(sum)) break;
  }
  return TWO_OVER_SQRT_PI * sum;
}

export function erf(x: number): number {
  return Math.abs(x) < 2.5 ? erfSeries(x) : 1 - erfc(x);
}

const unaryFns: Record<string, (x: number) => number> = {
  relu: (x) => (x < 0 ? 0 : x), // NaN passes through, as in PyTorch
  // Φ(x) = ½·erfc(-x/√2): through erfc the negative tail keeps its relative accuracy (1 + erf would cancel).
  gelu: (x) => 0.5 * x * erfc(-x / Math.SQRT2),
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

export function mapFloat(x: Tensor, fn: (v: number) => number, what: string): Tensor {
  requireFloat(x, what);
  const out = new Float32Array(x.data.length);
  for (let i = 0; i < out.length; i++) out[i] = fn(x.data[i]!);
  return { dtype: x.dtype, shape: [...x.shape], data: out };
}

const unary = (name: string, fn: (x: number) => number): Kernel => ([x]) => [mapFloat(x!, fn, `the operand of ${name}`)];

type BinaryFn = (a: number, b: number) => number;

/** Integer division truncates toward zero, as in C and WGSL, since the result keeps the operands' integer dtype. */
function intDiv(a: number, b: number): number {
  if (b === 0) throw new Error('integer division by zero');
  return Math.trunc(a / b);
}

const binary = (name: string, fn: BinaryFn, intFn: BinaryFn = fn): Kernel => ([a, b]) => {
  if (isFloatType(a!.dtype) !== isFloatType(b!.dtype)) throw new Error(`${name} of ${describe(a!)} and ${describe(b!)}: operand types differ`);
  const shape = broadcastShape(a!.shape, b!.shape);
  const same = (t: Tensor) => t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i]);
  const ia = same(a!) ? undefined : broadcastIndex(a!.shape, shape);
  const ib = same(b!) ? undefined : broadcastIndex(b!.shape, shape);
  const n = ia?.length ?? ib?.length ?? a!.data.length;
  const isFloat = isFloatType(a!.dtype);
  const f = isFloat ? fn : intFn;
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = f(a!.data[ia ? ia[i]! : i]!, b!.data[ib ? ib[i]! : i]!);
  return [tensorOf(a!.dtype, shape, values)];
};

// f16 and bf16 conversions round to nearest, ties to even, as the hardware does.
const f32Bits = new Float32Array(1);
const u32Bits = new Uint32Array(f32Bits.buffer);

export function roundToBf16(x: number): number {
  if (Number.isNaN(x)) return NaN;
  f32Bits[0] = x;
  const bits = u32Bits[0]!;
  u32Bits[0] = (bits + 0x7fff + ((bits >>> 16) & 1)) & 0xffff0000;
  return f32Bits[0]!;
}

function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  return d > 0.5 || (d === 0.5 && f % 2 !== 0) ? f + 1 : f;
}

export function roundToF16(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const a = Math.abs(x);
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  // 10 fraction bits; below 2^-14 the spacing stays 2^-24 (subnormals).
  const quantum = 2 ** (Math.max(e, -14) - 10);
  const r = roundHalfEven(a / quantum) * quantum;
  return Math.sign(x) * (r > 65504 ? Infinity : r);
}

function castValue(to: DType): (v: number) => number {
  switch (to) {
    case 'f32': return (v) => v;
    case 'f16': return roundToF16;
    case 'bf16': return roundToBf16;
    case 'bool': return (v) => (v !== 0 ? 1 : 0);
    case 'i32':
    case 'i64': return (v) => (Number.isNaN(v) ? 0 : Math.trunc(v));
  }
}

export const elementwiseKernels: Record<string, Kernel> = {
  ...Object.fromEntries(Object.entries(unaryFns).map(([k, fn]) => [k, unary(k, fn)])),
  add: binary('add', (a, b) => a + b),
  sub: binary('sub', (a, b) => a - b),
  mul: binary('mul', (a, b) => a * b),
  div: binary('div', (a, b) => a / b, intDiv),
  maximum: binary('maximum', Math.max),
  scale: ([x], at) => {
    const factor = numberAttr(at, 'factor');
    return [mapFloat(x!, (v) => v * factor, 'the operand of scale')];
  },
  const: (_, at) => {
    const dtype = dtypeAttr(at, 'dtype');
    return [tensorOf(dtype, [], [castValue(dtype)(numberAttr(at, 'value'))])];
  },
  arange: (_, at, ctx) => {
    const n = dimAttr(at, 'n', ctx.sizes);
    return [tensorOf('i32', [n], Array.from({ length: n }, (_v, i) => i))];
  },
  cast: ([x], at) => {
    const to = dtypeAttr(at, 'dtype');
    const convert = castValue(to);
    return [tensorOf(to, [...x!.shape], Array.from(x!.data, convert))];
  },
};
