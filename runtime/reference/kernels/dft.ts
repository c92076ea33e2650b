// The DFT matrix, as FNet computes its Fourier sublayer on TPUs with matrix products (Lee-Thorp et al. 2022, §3.2).
import { dimAttr, tensorOf, type Kernel } from '../tensor.ts';

/**
 * Entry (j, k) of cos or sin of the DFT angle 2π·jk/n. The product is reduced mod n first, as an exact integer, so
 * that the angle stays in [0, 2π) however large n is.
 */
export function dftEntry(part: 'cos' | 'sin', n: number, j: number, k: number): number {
  const angle = (2 * Math.PI * ((j * k) % n)) / n;
  return part === 'cos' ? Math.cos(angle) : Math.sin(angle);
}

export const dftKernels: Record<string, Kernel> = {
  dft: (_, at, ctx) => {
    const n = dimAttr(at, 'n', ctx.sizes);
    const part = at.part;
    if (part !== 'cos' && part !== 'sin') throw new Error(`dft: part must be cos or sin, got ${JSON.stringify(part)}`);
    return [tensorOf('f32', [n, n], Array.from({ length: n * n }, (_v, i) => dftEntry(part, n, Math.floor(i / n), i % n)))];
  },
};
