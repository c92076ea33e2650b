// Router losses.
import { f32, type Kernel } from '../tensor.ts';

export const lossKernels: Record<string, Kernel> = {
  // Switch eq. 4 as HF's load_balancing_loss_func: E · Σ_{j,e} mean_t(onehot(indices[t,j]) = e) · mean_t(probs[t,e]).
  load_balance_loss: ([probs, indices], at) => {
    const E = at.experts as number;
    const [T, k] = indices!.shape as [number, number];
    const meanProb = new Float64Array(E);
    for (let t = 0; t < T; t++) for (let e = 0; e < E; e++) meanProb[e] += probs!.data[t * E + e]! / T;
    let loss = 0;
    for (let j = 0; j < k; j++) {
      const frac = new Float64Array(E);
      for (let t = 0; t < T; t++) frac[indices!.data[t * k + j]!] += 1 / T;
      for (let e = 0; e < E; e++) loss += frac[e]! * meanProb[e]!;
    }
    return [f32([], Float32Array.of(loss * E))];
  },
  // ST-MoE eq. 5: mean over tokens of logsumexp(logits)².
  z_loss: ([logits]) => {
    const [T, E] = logits!.shape as [number, number];
    let sum = 0;
    for (let t = 0; t < T; t++) {
      let max = -Infinity;
      for (let e = 0; e < E; e++) max = Math.max(max, logits!.data[t * E + e]!);
      let s = 0;
      for (let e = 0; e < E; e++) s += Math.exp(logits!.data[t * E + e]! - max);
      sum += (max + Math.log(s)) ** 2;
    }
    return [f32([], Float32Array.of(sum / T))];
  },
};
