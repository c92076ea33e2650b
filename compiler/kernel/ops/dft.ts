// The DFT matrix as a loop nest over [n, n] (FNet, Lee-Thorp et al. 2022, §3.2: the Fourier sublayer as matrix
// products with DFT matrices, as FNet runs it on TPUs).
import { bin, dim, div, f, flat, mul, store, toF, un } from '../expr.ts';
import type { Expr } from '../ir.ts';
import type { OpLowering } from './context.ts';
import { forEachIndex } from './elementwise.ts';

/**
 * cos or sin of 2π·((j·k) mod n)/n. The product is reduced mod n in i32 before it becomes a float, so the angle
 * stays in [0, 2π) and keeps its precision however long the sequence (j·k itself fits i32 for n ≤ 46340).
 */
export function dftValue(part: 'cos' | 'sin', n: Expr, j: Expr, k: Expr): Expr {
  const angle = mul(f(2 * Math.PI), div(toF(bin('%', mul(j, k), n)), toF(n)));
  return un(part, angle);
}

export const dftOps: Record<string, OpLowering> = {
  dft: ({ outs, attrs }) => {
    const out = outs[0]!;
    const n = dim(attrs.n as string | number);
    return forEachIndex(out.shape, ([j, k]) => [store(out.buffer, flat([j!, k!], [n, n]), dftValue(attrs.part === 'sin' ? 'sin' : 'cos', n, j!, k!))]);
  },
};
