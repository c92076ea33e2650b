// The run-time sizes a kernel program reads (batch, seq, …): every target passes them to its kernels in this order.
import type { Expr, KernelProgram, Stmt } from './ir.ts';

/** Every run-time size a program's kernels read, sorted; names starting with '#' are a target's own parameters. */
export function programSizes(p: KernelProgram): string[] {
  const names = new Set<string>();
  const visitE = (e: Expr): void => {
    if (e.k === 'size' && !e.name.startsWith('#')) names.add(e.name);
    if ('a' in e) visitE(e.a);
    if ('b' in e) visitE(e.b);
    if ('cond' in e) visitE(e.cond);
    if ('index' in e) visitE(e.index);
  };
  const visitS = (s: Stmt): void => {
    if (s.k === 'for') {
      visitE(s.extent);
      s.body.forEach(visitS);
    } else if (s.k === 'if') {
      visitE(s.cond);
      s.then.forEach(visitS);
    } else if (s.k === 'store') {
      visitE(s.index);
      visitE(s.value);
    } else if (s.k === 'call') s.args.forEach(visitE);
    else visitE(s.value);
  };
  for (const k of p.kernels) k.body.forEach(visitS);
  return [...names].sort();
}

