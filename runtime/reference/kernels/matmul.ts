// Matrix products: embedding lookup, linear (x·wᵀ + b), batched matmul. Dot products accumulate in float64.
import { broadcastShape } from './elementwise.ts';
import { f32, numel, type Kernel } from '../tensor.ts';

export const matmulKernels: Record<string, Kernel> = {
  embedding: ([ids, table]) => {
    const d = table!.shape[1]!;
    const vocab = table!.shape[0]!;
    const out = new Float32Array(ids!.data.length * d);
    ids!.data.forEach((id, t) => {
      if (id < 0 || id >= vocab) throw new RangeError(`token id ${id} is outside the embedding table of ${vocab} rows`);
      out.set(table!.data.subarray(id * d, (id + 1) * d), t * d);
    });
    return [f32([...ids!.shape, d], out)];
  },
  linear: ([x, w, b]) => {
    const [outDim, inDim] = w!.shape as [number, number];
    const rows = x!.data.length / inDim;
    const out = new Float32Array(rows * outDim);
    for (let r = 0; r < rows; r++) {
      for (let o = 0; o < outDim; o++) {
        let acc = b ? b.data[o]! : 0;
        for (let k = 0; k < inDim; k++) acc += x!.data[r * inDim + k]! * w!.data[o * inDim + k]!;
        out[r * outDim + o] = acc;
      }
    }
    return [f32([...x!.shape.slice(0, -1), outDim], out)];
  },
  matmul: ([a, b], at) => {
    const tb = at.transpose_b === true;
    const [m, k] = a!.shape.slice(-2) as [number, number];
    const n = tb ? b!.shape[b!.shape.length - 2]! : b!.shape[b!.shape.length - 1]!;
    const batch = broadcastShape(a!.shape.slice(0, -2), b!.shape.slice(0, -2));
    const nb = numel(batch);
    const aBatch = numel(a!.shape.slice(0, -2));
    const bBatch = numel(b!.shape.slice(0, -2));
    const out = new Float32Array(nb * m * n);
    for (let p = 0; p < nb; p++) {
      const ao = (aBatch === 1 ? 0 : p) * m * k;
      const bo = (bBatch === 1 ? 0 : p) * k * n;
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let acc = 0;
          for (let q = 0; q < k; q++) acc += a!.data[ao + i * k + q]! * b!.data[bo + (tb ? j * k + q : q * n + j)]!;
          out[(p * m + i) * n + j] = acc;
        }
      }
    }
    return [f32([...batch, m, n], out)];
  },
};
