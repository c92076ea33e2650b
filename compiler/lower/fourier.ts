// FNet's token mixing in place of attention (Lee-Thorp et al. 2022, "FNet: Mixing Tokens with Fourier Transforms",
// §3.2): y = Re(FFT_seq(FFT_hidden(x))), with no parameters.
import type { FourierSpec } from '../spec/types.ts';
import type { Sequence } from './attention.ts';
import type { GraphBuilder } from './builder.ts';

/**
 * Re(F_L · X · F_D) for each sequence X [len, d_model] of the batch, with the DFT matrices F_n = C_n − i·S_n
 * (C_n[j, k] = cos(2π·jk/n), S_n[j, k] = sin(2π·jk/n)): since X is real, Re(F_L X F_D) = C_L (X C_D) − S_L (X S_D).
 * This is how FNet computes the DFT on TPUs for sequences up to 4096 tokens (§3.2, §4.2): matrix products, O(n²),
 * so its FLOPs are those of four matmuls. The mixing spans the whole sequence: it is not causal.
 */
export function lowerFourier(b: GraphBuilder, x: Sequence, _spec: FourierSpec, dModel: number): string {
  const mixed = (part: 'cos' | 'sin') => {
    const hidden = b.op('matmul', [x.x, b.op('dft', [], { n: dModel, part })]); // [batch, len, d] · [d, d]
    return b.op('matmul', [b.op('dft', [], { n: x.len, part }), hidden]); // [len, len] · [batch, len, d], batch broadcast
  };
  return b.op('sub', [mixed('cos'), mixed('sin')]);
}
