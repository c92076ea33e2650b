// The launch grid of a loop-nest kernel, shared by every GPU target: the kernel's outer chain of parallel loops runs
// as one thread (invocation) per iteration, and the host sizes the launch from their extents at run time.
import type { Expr, Kernel, Stmt } from '../compiler/kernel/ir.ts';

/** The loops of a kernel's grid: the outer chain of parallel loops whose extents the host can evaluate. */
export function gridLoops(k: Kernel): { loops: { var: string; extent: Expr }[]; body: Stmt[] } {
  const loops: { var: string; extent: Expr }[] = [];
  let body = k.body;
  const hostEvaluable = (e: Expr): boolean => e.k === 'const' || e.k === 'size' || (e.k === 'bin' && hostEvaluable(e.a) && hostEvaluable(e.b));
  while (body.length === 1 && body[0]!.k === 'for' && body[0]!.parallel && hostEvaluable(body[0]!.extent)) {
    loops.push({ var: body[0]!.var, extent: body[0]!.extent });
    body = body[0]!.body;
  }
  return { loops, body };
}

/** Evaluates a host-evaluable extent at concrete sizes. */
export function evalExtent(e: Expr, sizes: Record<string, number>): number {
  if (e.k === 'const') return e.value;
  if (e.k === 'size') {
    const v = sizes[e.name];
    if (v === undefined) throw new Error(`no size given for '${e.name}'`);
    return v;
  }
  if (e.k !== 'bin') throw new Error(`extent ${e.k} is not known on the host`);
  const a = evalExtent(e.a, sizes);
  const b = evalExtent(e.b, sizes);
  switch (e.op) {
    case '+': return a + b;
    case '-': return a - b;
    case '*': return a * b;
    case '/': return Math.trunc(a / b);
    case '%': return a % b;
    case 'min': return Math.min(a, b);
    case 'max': return Math.max(a, b);
    case '<': return a < b ? 1 : 0;
    default: throw new Error(`extent operator ${e.op} is not known on the host`);
  }
}
