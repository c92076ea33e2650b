// The kernel IR as text: each kernel's buffers and its loop nest in a C-like notation.
import type { Expr, Kernel, KernelProgram, Stmt } from './ir.ts';

const prec: Record<string, number> = { '||': 1, '&&': 2, '==': 3, '!=': 3, '<': 4, '<=': 4, '+': 5, '-': 5, '*': 6, '/': 6, '%': 6 };

export function printExpr(e: Expr, outer = 0): string {
  switch (e.k) {
    case 'const': return e.type === 'f32' && Number.isInteger(e.value) ? `${e.value}.0` : String(e.value);
    case 'var':
    case 'size': return e.name;
    case 'load': return `${e.buffer}[${printExpr(e.index)}]`;
    case 'cast': return `${e.type}(${printExpr(e.a)})`;
    case 'addr': return `&${e.buffer}[${printExpr(e.index)}]`;
    case 'select': return `select(${printExpr(e.cond)}, ${printExpr(e.a)}, ${printExpr(e.b)})`;
    case 'un': return `${e.op}(${printExpr(e.a)})`;
    case 'bin': {
      if (e.op === 'min' || e.op === 'max') return `${e.op}(${printExpr(e.a)}, ${printExpr(e.b)})`;
      const p = prec[e.op]!;
      const s = `${printExpr(e.a, p)} ${e.op} ${printExpr(e.b, p + 1)}`;
      return p < outer ? `(${s})` : s;
    }
  }
}

function printStmts(stmts: Stmt[], indent: string, out: string[]): void {
  for (const s of stmts) {
    switch (s.k) {
      case 'for':
        out.push(`${indent}${s.parallel ? 'parallel ' : ''}for ${s.var} in 0..${printExpr(s.extent)} {`);
        printStmts(s.body, `${indent}  `, out);
        out.push(`${indent}}`);
        break;
      case 'let': out.push(`${indent}${s.type} ${s.name} = ${printExpr(s.value)}`); break;
      case 'set': out.push(`${indent}${s.name} = ${printExpr(s.value)}`); break;
      case 'store': out.push(`${indent}${s.buffer}[${printExpr(s.index)}] = ${printExpr(s.value)}`); break;
      case 'call': out.push(`${indent}${s.fn}(${s.args.map((a) => printExpr(a)).join(', ')})`); break;
      case 'if':
        out.push(`${indent}if ${printExpr(s.cond)} {`);
        printStmts(s.then, `${indent}  `, out);
        out.push(`${indent}}`);
        break;
    }
  }
}

export function printKernel(k: Kernel): string {
  const out = [`kernel ${k.name}${k.loc ? `  // ${k.loc}` : ''}`];
  if (k.threads) out.push(`  // split over threads: ${k.threads.units} units; per-thread scratch ${k.threads.scratch.join(' + ')} floats`);
  for (const b of k.buffers) out.push(`  ${b.access === 'read' ? 'in ' : b.access === 'write' ? 'out' : 'tmp'} ${b.name}: ${b.dtype}[${b.size}]`);
  out.push('{');
  printStmts(k.body, '  ', out);
  out.push('}');
  return out.join('\n');
}

export function printProgram(p: KernelProgram): string {
  const lines = [`program ${p.name}`];
  for (const b of p.buffers) {
    if (b.kind === 'const') continue;
    lines.push(`  ${b.kind.padEnd(6)} ${b.name}: ${b.dtype}[${b.size}]${b.aliasOf ? ` = view of ${b.aliasOf}` : ''}`);
  }
  for (const i of p.inputs) lines.push(`  input ${i.name} -> ${i.buffer}`);
  for (const o of p.outputs) lines.push(`  output ${o.name} <- ${o.buffer}`);
  return `${lines.join('\n')}\n\n${p.kernels.map(printKernel).join('\n\n')}\n`;
}
