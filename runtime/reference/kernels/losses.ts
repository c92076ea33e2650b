// Router losses, accumulated in float64. Leading axes are flattened into tokens: [..., experts].
import { describe, intAttr, requireFloat, requireInt, type Kernel, type Tensor } from '../tensor.ts';
import { logSumExp } from './reduce.ts';

function tokensOf(t: Tensor, width: number, what: string): number {
  if (t.shape.length === 0 || t.shape[t.shape.length - 1] !== width) throw new Error(`${what} ${describe(t)} must end in an axis of ${width}`);
  return width === 0 ? 0 : t.data.length / width;
}

export const lossKernels: Record<string, Kernel> = {
  // Switch eq. 4 as HF's load_balancing_loss_func computes it:
  //   E · Σ_j Σ_e f[j, e] · P[e],  f[j, e] = mean_t(indices[t, j] = e),  P[e] = mean_t(probs[t, e]).
  // Not divided by k, so a perfectly balanced top-k router gives k.
  load_balance_loss: ([probs, indices], at) => {
    requireFloat(probs!, 'load_balance_loss probs');
    requireInt(indices!, 'load_balance_loss indices');
    const E = intAttr(at, 'experts');
    const T = tokensOf(probs!, E, 'load_balance_loss probs');
    const k = indices!.shape[indices!.shape.length - 1] ?? 0;
    if (indices!.shape.length === 0 || indices!.data.length !== T * k) throw new Error(`load_balance_loss: indices ${describe(indices!)} do not match probs ${describe(probs!)}`);
    const meanProb = new Float64Array(E);
    for (let t = 0; t < T; t++) for (let e = 0; e < E; e++) meanProb[e] += probs!.data[t * E + e]!;
    for (let e = 0; e < E; e++) meanProb[e] /= T;
    let loss = 0;
    for (let j = 0; j < k; j++) {
      const count = new Float64Array(E);
      for (let t = 0; t < T; t++) {
        const e = indices!.data[t * k + j]!;
        if (!(e >= 0 && e < E)) throw new RangeError(`load_balance_loss: expert index ${e} is out of range for ${E} experts`);
        count[e]!++;
      }
      for (let e = 0; e < E; e++) loss += (count[e]! / T) * meanProb[e]!;
    }
    return [{ dtype: probs!.dtype, shape: [], data: Float32Array.of(E * loss) }];
  },
  // ST-MoE eq. 5 (Zoph et al. 2022): mean_t (log Σ_e e^logits[t, e])², the logsumexp max-shifted.
  z_loss: ([logits]) => {
    requireFloat(logits!, 'z_loss logits');
    const E = logits!.shape[logits!.shape.length - 1] ?? 0;
    const T = tokensOf(logits!, E, 'z_loss logits');
    let sum = 0;
    for (let t = 0; t < T; t++) sum += logSumExp((e) => logits!.data[t * E + e]!, E) ** 2;
    return [{ dtype: logits!.dtype, shape: [], data: Float32Array.of(sum / T) }];
  },
};
