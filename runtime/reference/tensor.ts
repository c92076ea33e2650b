// Tensors of the reference executor: a shape and row-major data. Floating-point values of any dtype (f32, f16,
// bf16) are held in a Float32Array, since the reference computes in float32 whatever the declared dtype; only
// `cast` rounds to a narrower format. Integers and booleans (i32, i64, bool) are held in an Int32Array: they are
// token ids, positions and expert indices, far below 2^31. Tensors are immutable: no kernel writes an operand.
import { evalDim } from '../../compiler/ir/dims.ts';
import { dtypes, type Attr, type Dim, type DType } from '../../compiler/ir/types.ts';

export interface Tensor {
  dtype: DType;
  shape: number[];
  data: Float32Array | Int32Array;
}

export interface KernelContext {
  /** Sizes of the symbolic dimensions (batch, seq, dec_seq). */
  sizes: Record<string, number>;
  /** Concrete result shapes from the node's types, when it has them. Kernels derive their own shapes from
   *  operands and attributes, so that a graph without types runs too, and the executor compares the two. */
  outShapes: number[][];
}

export type Kernel = (ins: Tensor[], attrs: Record<string, Attr>, ctx: KernelContext) => Tensor[];

export const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

export const formatShape = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

export function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

export const isIntType = (d: DType): boolean => d === 'i32' || d === 'i64' || d === 'bool';
export const isFloatType = (d: DType): boolean => !isIntType(d);

export function f32(shape: number[], data?: Float32Array): Tensor {
  return { dtype: 'f32', shape, data: data ?? new Float32Array(numel(shape)) };
}

export function i32(shape: number[], data?: Int32Array): Tensor {
  return { dtype: 'i32', shape, data: data ?? new Int32Array(numel(shape)) };
}

/** A tensor of the given dtype from plain numbers (truncated for integer dtypes, 0/1 for bool). */
export function tensorOf(dtype: DType, shape: number[], values: ArrayLike<number>): Tensor {
  if (values.length !== numel(shape)) throw new Error(`${values.length} values do not fill a tensor of shape ${formatShape(shape)}`);
  if (isFloatType(dtype)) return { dtype, shape, data: Float32Array.from(values) };
  const data = new Int32Array(values.length);
  for (let i = 0; i < data.length; i++) data[i] = dtype === 'bool' ? (values[i] !== 0 ? 1 : 0) : Math.trunc(values[i]!);
  return { dtype, shape, data };
}

/** Empty storage of the same kind (float or integer) as `like`. */
export function allocLike(like: Tensor, n: number): Float32Array | Int32Array {
  return like.data instanceof Int32Array ? new Int32Array(n) : new Float32Array(n);
}

export function describe(t: Tensor): string {
  return `${t.dtype}${formatShape(t.shape)}`;
}

export function requireFloat(t: Tensor, what: string): void {
  if (!(t.data instanceof Float32Array)) throw new Error(`${what} must be a float tensor, got ${describe(t)}`);
}

export function requireInt(t: Tensor, what: string): void {
  if (!(t.data instanceof Int32Array)) throw new Error(`${what} must be an integer tensor, got ${describe(t)}`);
}

export function requireRank(t: Tensor, rank: number, what: string): void {
  if (t.shape.length !== rank) throw new Error(`${what} must have rank ${rank}, got ${describe(t)}`);
}

/** Normalises a possibly negative axis, or fails when it is out of range. */
export function axisOf(rank: number, a: Attr | undefined, fallback = -1): number {
  const given = typeof a === 'number' ? a : fallback;
  const axis = given < 0 ? rank + given : given;
  if (!Number.isInteger(axis) || axis < 0 || axis >= rank) throw new Error(`axis ${given} is out of range for rank ${rank}`);
  return axis;
}

/** Splits a shape around an axis into (outer, n, inner) extents: element (o, k, i) is at (o·n + k)·inner + i. */
export function around(shape: readonly number[], axis: number): [number, number, number] {
  return [numel(shape.slice(0, axis)), shape[axis]!, numel(shape.slice(axis + 1))];
}

/** NumPy broadcasting of concrete shapes, or an error naming both. */
export function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new Error(`shapes ${formatShape(a)} and ${formatShape(b)} do not broadcast`);
    out.push(x === 1 ? y : x);
  }
  return out;
}

/**
 * For each element of `outShape` (row-major), the flat index of the element of `inShape` that broadcasts to it:
 * missing leading axes and axes of size 1 repeat (stride 0), as in NumPy.
 */
export function broadcastIndex(inShape: readonly number[], outShape: readonly number[]): Int32Array {
  const rank = outShape.length;
  if (inShape.length > rank) throw new Error(`shape ${formatShape(inShape)} cannot broadcast to ${formatShape(outShape)}`);
  const padded = [...new Array<number>(rank - inShape.length).fill(1), ...inShape];
  padded.forEach((d, i) => {
    if (d !== 1 && d !== outShape[i]) throw new Error(`shape ${formatShape(inShape)} cannot broadcast to ${formatShape(outShape)}`);
  });
  const inStrides = strides(padded).map((s, i) => (padded[i] === 1 ? 0 : s));
  const outStrides = strides(outShape);
  const idx = new Int32Array(numel(outShape));
  for (let o = 0; o < idx.length; o++) {
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

// ---- attributes -------------------------------------------------------------------------------------------------
// The verifier checks attribute kinds, but the executor also runs graphs that were never verified (tests, tools),
// so a missing or mistyped attribute is a clear error rather than an `undefined` deep inside a loop.

export function numberAttr(attrs: Record<string, Attr>, name: string, fallback?: number): number {
  const v = attrs[name];
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v !== 'number') throw new Error(`attribute '${name}' must be a number, got ${JSON.stringify(v)}`);
  return v;
}

export function intAttr(attrs: Record<string, Attr>, name: string, fallback?: number): number {
  const v = numberAttr(attrs, name, fallback);
  if (!Number.isInteger(v)) throw new Error(`attribute '${name}' must be an integer, got ${v}`);
  return v;
}

export function dimAttr(attrs: Record<string, Attr>, name: string, sizes: Readonly<Record<string, number>>): number {
  const v = attrs[name];
  if (typeof v !== 'number' && typeof v !== 'string') throw new Error(`attribute '${name}' must be a dimension, got ${JSON.stringify(v)}`);
  return evalDim(v, sizes);
}

export function dimsAttr(attrs: Record<string, Attr>, name: string, sizes: Readonly<Record<string, number>>): number[] {
  const v = attrs[name];
  if (!Array.isArray(v)) throw new Error(`attribute '${name}' must be a list of dimensions, got ${JSON.stringify(v)}`);
  return v.map((d: Dim) => evalDim(d, sizes));
}

export function dtypeAttr(attrs: Record<string, Attr>, name: string): DType {
  const v = attrs[name];
  if (typeof v !== 'string' || !(dtypes as readonly string[]).includes(v)) throw new Error(`attribute '${name}' must be a dtype (${dtypes.join(', ')}), got ${JSON.stringify(v)}`);
  return v as DType;
}
