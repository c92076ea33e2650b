// The op reference of docs/ir.md, written from the op table.
import { ops } from './ops.ts';

export const OPS_BEGIN = '<!-- ops: generated from compiler/ir/ops.ts by `npm run docs` -->';
export const OPS_END = '<!-- end of ops -->';

export function opReference(): string {
  const out = [OPS_BEGIN, '', '| op | operands → results | attributes | meaning |', '|---|---|---|---|'];
  for (const [name, op] of Object.entries(ops)) {
    const attrs = Object.entries(op.attrs).map(([k, a]) => `${k}: ${a.kind}${a.optional ? '?' : ''}`).join(', ');
    out.push(`| \`${name}\` | (${op.operands.join(', ')}) → ${op.results.join(', ')} | ${attrs} | ${op.doc.replace(/\|/g, '\\|')} |`);
  }
  out.push('', OPS_END);
  return out.join('\n');
}
