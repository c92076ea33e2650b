// Shape ops: reshape, expand, transpose, slice, concat. They move elements and never change values.
import {
  allocLike, around, axisOf, broadcastIndex, describe, dimsAttr, formatShape, intAttr, numel, strides,
  type Kernel, type Tensor,
} from '../tensor.ts';

const like = (x: Tensor, shape: number[], data: Float32Array | Int32Array): Tensor => ({ dtype: x.dtype, shape, data });

export const shapeKernels: Record<string, Kernel> = {
  // Tensors are immutable, so a reshape shares its operand's storage.
  reshape: ([x], at, ctx) => {
    const shape = dimsAttr(at, 'shape', ctx.sizes);
    if (numel(shape) !== x!.data.length) throw new Error(`cannot reshape ${describe(x!)} (${x!.data.length} elements) to ${formatShape(shape)} (${numel(shape)} elements)`);
    return [like(x!, shape, x!.data)];
  },
  expand: ([x], at, ctx) => {
    const shape = dimsAttr(at, 'shape', ctx.sizes);
    const idx = broadcastIndex(x!.shape, shape);
    const out = allocLike(x!, idx.length);
    for (let i = 0; i < idx.length; i++) out[i] = x!.data[idx[i]!]!;
    return [like(x!, shape, out)];
  },
  transpose: ([x], at) => {
    const rank = x!.shape.length;
    const p = Array.isArray(at.perm) ? at.perm.map(Number) : [];
    if (p.length !== rank || [...p].sort((a, b) => a - b).some((v, i) => v !== i)) {
      throw new Error(`perm ${JSON.stringify(at.perm)} is not a permutation of the ${rank} axes of ${describe(x!)}`);
    }
    const shape = p.map((a) => x!.shape[a]!);
    const inStrides = strides(x!.shape);
    const outStrides = strides(shape);
    const n = numel(shape);
    const out = allocLike(x!, n);
    for (let o = 0; o < n; o++) {
      let rem = o;
      let src = 0;
      for (let d = 0; d < rank; d++) {
        const c = Math.floor(rem / outStrides[d]!);
        rem -= c * outStrides[d]!;
        src += c * inStrides[p[d]!]!;
      }
      out[o] = x!.data[src]!;
    }
    return [like(x!, shape, out)];
  },
  slice: ([x], at) => {
    const axis = axisOf(x!.shape.length, at.axis);
    const start = intAttr(at, 'start');
    const end = intAttr(at, 'end');
    const [outer, n, inner] = around(x!.shape, axis);
    if (!(start >= 0 && end >= start && end <= n)) throw new Error(`slice ${start}:${end} is out of range for axis ${axis} of ${describe(x!)}`);
    const m = end - start;
    const out = allocLike(x!, outer * m * inner);
    for (let o = 0; o < outer; o++) out.set(x!.data.subarray((o * n + start) * inner, (o * n + end) * inner), o * m * inner);
    const shape = [...x!.shape];
    shape[axis] = m;
    return [like(x!, shape, out)];
  },
  concat: (xs, at) => {
    if (xs.length === 0) throw new Error('concat needs at least one operand');
    const first = xs[0]!;
    const axis = axisOf(first.shape.length, at.axis);
    for (const x of xs) {
      const fits = x.shape.length === first.shape.length && x.shape.every((d, i) => i === axis || d === first.shape[i]);
      if (!fits || (x.data instanceof Int32Array) !== (first.data instanceof Int32Array)) {
        throw new Error(`cannot concatenate ${describe(first)} and ${describe(x)} along axis ${axis}`);
      }
    }
    const total = xs.reduce((s, x) => s + x.shape[axis]!, 0);
    const shape = [...first.shape];
    shape[axis] = total;
    const [outer, , inner] = around(shape, axis);
    const out = allocLike(first, numel(shape));
    let offset = 0;
    for (const x of xs) {
      const n = x.shape[axis]!;
      for (let o = 0; o < outer; o++) out.set(x.data.subarray(o * n * inner, (o + 1) * n * inner), (o * total + offset) * inner);
      offset += n;
    }
    return [like(first, shape, out)];
  },
};
