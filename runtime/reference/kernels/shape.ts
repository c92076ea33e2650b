// Shape ops: reshape, transpose, slice, concat, expand.
import { broadcastIndex } from './elementwise.ts';
import { around, axisOf, numel, strides, type Kernel, type Tensor } from '../tensor.ts';

const like = (x: Tensor, shape: number[], data: Float32Array | Int32Array): Tensor => ({ dtype: x.dtype, shape, data });
const alloc = (x: Tensor, n: number) => (x.data instanceof Int32Array ? new Int32Array(n) : new Float32Array(n));

export const shapeKernels: Record<string, Kernel> = {
  reshape: ([x], _at, ctx) => [like(x!, ctx.outShapes[0]!, x!.data)],
  expand: ([x], _at, ctx) => {
    const shape = ctx.outShapes[0]!;
    const idx = broadcastIndex(x!.shape, shape);
    const out = alloc(x!, idx.length);
    for (let i = 0; i < idx.length; i++) out[i] = x!.data[idx[i]!]!;
    return [like(x!, shape, out)];
  },
  transpose: ([x], at) => {
    const perm = at.perm as number[];
    const shape = perm.map((p) => x!.shape[p]!);
    const inStrides = strides(x!.shape);
    const outStrides = strides(shape);
    const n = numel(shape);
    const out = alloc(x!, n);
    for (let o = 0; o < n; o++) {
      let rem = o;
      let src = 0;
      for (let d = 0; d < shape.length; d++) {
        const c = Math.floor(rem / outStrides[d]!);
        rem -= c * outStrides[d]!;
        src += c * inStrides[perm[d]!]!;
      }
      out[o] = x!.data[src]!;
    }
    return [like(x!, shape, out)];
  },
  slice: ([x], at) => {
    const axis = axisOf(x!.shape.length, at.axis);
    const start = at.start as number;
    const end = at.end as number;
    const [outer, n, inner] = around(x!.shape, axis);
    const m = end - start;
    const out = alloc(x!, outer * m * inner);
    for (let o = 0; o < outer; o++) out.set(x!.data.subarray((o * n + start) * inner, (o * n + end) * inner), o * m * inner);
    const shape = [...x!.shape];
    shape[axis] = m;
    return [like(x!, shape, out)];
  },
  concat: (xs, at) => {
    const axis = axisOf(xs[0]!.shape.length, at.axis);
    const total = xs.reduce((s, x) => s + x.shape[axis]!, 0);
    const shape = [...xs[0]!.shape];
    shape[axis] = total;
    const [outer, , inner] = around(shape, axis);
    const out = alloc(xs[0]!, numel(shape));
    let offset = 0;
    for (const x of xs) {
      const n = x.shape[axis]!;
      for (let o = 0; o < outer; o++) out.set(x.data.subarray(o * n * inner, (o + 1) * n * inner), (o * total + offset) * inner);
      offset += n;
    }
    return [like(xs[0]!, shape, out)];
  },
};
