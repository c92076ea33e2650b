// RMSNorm and LayerNorm over the last axis, statistics in float64.
import { f32, type Kernel } from '../tensor.ts';

export const normKernels: Record<string, Kernel> = {
  // y = x / sqrt(mean(x²) + eps) · w   (Zhang & Sennrich 2019)
  rms_norm: ([x, w], at) => {
    const d = x!.shape[x!.shape.length - 1]!;
    const rows = x!.data.length / d;
    const eps = at.eps as number;
    const out = new Float32Array(x!.data.length);
    for (let r = 0; r < rows; r++) {
      let ss = 0;
      for (let i = 0; i < d; i++) ss += x!.data[r * d + i]! ** 2;
      // HF computes rsqrt(var + eps) in float32 and rounds x·rsqrt to float32 before the weight.
      const inv = Math.fround(1 / Math.sqrt(Math.fround(ss / d) + eps));
      for (let i = 0; i < d; i++) out[r * d + i] = w!.data[i]! * Math.fround(x!.data[r * d + i]! * inv);
    }
    return [f32([...x!.shape], out)];
  },
  // y = (x - mean) / sqrt(var + eps) · w + b   (Ba et al. 2016)
  layer_norm: ([x, w, b], at) => {
    const d = x!.shape[x!.shape.length - 1]!;
    const rows = x!.data.length / d;
    const eps = at.eps as number;
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
    return [f32([...x!.shape], out)];
  },
};
