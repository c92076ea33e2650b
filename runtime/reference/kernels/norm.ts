// RMSNorm and LayerNorm over the last axis, statistics in float64.
import { describe, numberAttr, requireFloat, type Kernel, type Tensor } from '../tensor.ts';

/** Checks x is float and each per-feature parameter is [d]; returns d. */
function lastAxisParams(op: string, x: Tensor, params: (Tensor | undefined)[]): number {
  requireFloat(x, `the input of ${op}`);
  if (x.shape.length === 0) throw new Error(`${op} needs at least one axis, got a scalar`);
  const d = x.shape[x.shape.length - 1]!;
  for (const p of params) {
    if (p && !(p.shape.length === 1 && p.shape[0] === d)) throw new Error(`${op}: parameter ${describe(p)} does not match the last axis of ${describe(x)}`);
  }
  return d;
}

export const normKernels: Record<string, Kernel> = {
  // y = x / √(mean(x²) + eps) · w   (Zhang & Sennrich 2019)
  rms_norm: ([x, w], at) => {
    const d = lastAxisParams('rms_norm', x!, [w!]);
    const rows = d === 0 ? 0 : x!.data.length / d;
    const eps = numberAttr(at, 'eps');
    const out = new Float32Array(x!.data.length);
    for (let r = 0; r < rows; r++) {
      let ss = 0;
      for (let i = 0; i < d; i++) ss += x!.data[r * d + i]! ** 2;
      // HF (LlamaRMSNorm, T5LayerNorm) computes rsqrt(var + eps) in float32 and rounds x·rsqrt to float32
      // before multiplying by the weight; the same roundings here keep the fixtures within an ulp.
      const inv = Math.fround(1 / Math.sqrt(Math.fround(ss / d) + eps));
      for (let i = 0; i < d; i++) out[r * d + i] = w!.data[i]! * Math.fround(x!.data[r * d + i]! * inv);
    }
    return [{ dtype: x!.dtype, shape: [...x!.shape], data: out }];
  },
  // y = (x - mean) / √(var + eps) · w + b, with the biased (population) variance   (Ba et al. 2016)
  layer_norm: ([x, w, b], at) => {
    const d = lastAxisParams('layer_norm', x!, [w!, b]);
    const rows = d === 0 ? 0 : x!.data.length / d;
    const eps = numberAttr(at, 'eps');
    const out = new Float32Array(x!.data.length);
    for (let r = 0; r < rows; r++) {
      let mean = 0;
      for (let i = 0; i < d; i++) mean += x!.data[r * d + i]!;
      mean /= d;
      let v = 0;
      for (let i = 0; i < d; i++) v += (x!.data[r * d + i]! - mean) ** 2;
      const inv = 1 / Math.sqrt(v / d + eps);
      for (let i = 0; i < d; i++) out[r * d + i] = (x!.data[r * d + i]! - mean) * inv * w!.data[i]! + (b ? b.data[i]! : 0);
    }
    return [{ dtype: x!.dtype, shape: [...x!.shape], data: out }];
  },
};
