// Matrix products: embedding lookup, linear (x·wᵀ + b), batched matmul. Every dot product accumulates in a
// float64 variable and is rounded once, so the oracle is at least as accurate as any float32 kernel under test.
import {
  broadcastIndex, broadcastShape, describe, numel, requireFloat, requireInt, requireRank, type Kernel,
} from '../tensor.ts';

export const matmulKernels: Record<string, Kernel> = {
  embedding: ([ids, table]) => {
    requireInt(ids!, 'embedding ids');
    requireRank(table!, 2, 'the embedding table');
    const [vocab, d] = table!.shape as [number, number];
    const out = new Float32Array(ids!.data.length * d);
    ids!.data.forEach((id, t) => {
      if (id < 0 || id >= vocab) throw new RangeError(`token id ${id} is outside the embedding table of ${vocab} rows`);
      out.set(table!.data.subarray(id * d, (id + 1) * d), t * d);
    });
    return [{ dtype: table!.dtype, shape: [...ids!.shape, d], data: out }];
  },
  // y = x · wᵀ + b with w [out, in] (PyTorch's nn.Linear layout).
  linear: ([x, w, b]) => {
    requireFloat(x!, 'the input of linear');
    requireRank(w!, 2, 'the linear weight [out, in]');
    const [outDim, inDim] = w!.shape as [number, number];
    if (x!.shape.length === 0 || x!.shape[x!.shape.length - 1] !== inDim) throw new Error(`linear weight ${describe(w!)} does not take inputs ${describe(x!)}`);
    if (b && !(b.shape.length === 1 && b.shape[0] === outDim)) throw new Error(`linear bias ${describe(b)} does not match ${outDim} outputs`);
    const rows = inDim === 0 ? numel(x!.shape.slice(0, -1)) : x!.data.length / inDim;
    const out = new Float32Array(rows * outDim);
    for (let r = 0; r < rows; r++) {
      for (let o = 0; o < outDim; o++) {
        let acc = 0;
        for (let k = 0; k < inDim; k++) acc += x!.data[r * inDim + k]! * w!.data[o * inDim + k]!;
        out[r * outDim + o] = acc + (b ? b.data[o]! : 0);
      }
    }
    return [{ dtype: x!.dtype, shape: [...x!.shape.slice(0, -1), outDim], data: out }];
  },
  // y[..., i, j] = Σ_q a[..., i, q] · b[..., q, j]   (b[..., j, q] with transpose_b), batch axes broadcast.
  matmul: ([a, b], at) => {
    requireFloat(a!, 'matmul operand a');
    requireFloat(b!, 'matmul operand b');
    if (a!.shape.length < 2 || b!.shape.length < 2) throw new Error(`matmul needs operands of rank ≥ 2, got ${describe(a!)} and ${describe(b!)}`);
    const tb = at.transpose_b === true;
    const [m, k] = a!.shape.slice(-2) as [number, number];
    const [bRows, bCols] = b!.shape.slice(-2) as [number, number];
    const [k2, n] = tb ? [bCols, bRows] : [bRows, bCols];
    if (k !== k2) throw new Error(`matmul inner dimensions differ: ${describe(a!)} · ${describe(b!)}${tb ? 'ᵀ' : ''}`);
    const aBatchShape = a!.shape.slice(0, -2);
    const bBatchShape = b!.shape.slice(0, -2);
    const batch = broadcastShape(aBatchShape, bBatchShape);
    const aBatch = broadcastIndex(aBatchShape, batch);
    const bBatch = broadcastIndex(bBatchShape, batch);
    const out = new Float32Array(aBatch.length * m * n);
    for (let p = 0; p < aBatch.length; p++) {
      const ao = aBatch[p]! * m * k;
      const bo = bBatch[p]! * k * n;
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let acc = 0;
          for (let q = 0; q < k; q++) acc += a!.data[ao + i * k + q]! * b!.data[bo + (tb ? j * k + q : q * n + j)]!;
          out[(p * m + i) * n + j] = acc;
        }
      }
    }
    return [{ dtype: a!.dtype, shape: [...batch, m, n], data: out }];
  },
};
