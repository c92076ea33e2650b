// Hover over a `let` or `param` constant: its value (evaluated as the checker does), and for a param where its value comes from.
import { evaluate } from '../../compiler/spec/evaluate.ts';
import { EvalError } from '../../compiler/spec/values.ts';
import type { Analysis } from './analyze.ts';
import { formatValue } from './format.ts';
import type { Declaration } from './scope.ts';

export function valueHover(a: Analysis, decl: Declaration): string | undefined {
  const s = decl.statement;
  if (s.kind !== 'let') return undefined;
  const binding = a.program.scope.bindings.get(decl.name);
  let value: string;
  try {
    value = binding ? formatValue(evaluate(binding.expr, a.program.scope, {})) : '?';
  } catch (e) {
    value = e instanceof EvalError && /only defined inside a stack/.test(e.message) ? 'depends on the layer' : '(cannot evaluate: see the diagnostics)';
  }
  const keyword = s.overridable ? 'param' : 'let';
  const lines = ['```moe', `${keyword} ${decl.name} = ${value}`, '```'];
  const effective = a.program.effective.get(decl.name);
  if (effective && effective !== decl && s.overridable) lines.push('', `Set by ${where(effective)} (declared at ${where(decl)}).`);
  const first = a.program.declarations.get(decl.name)?.[0];
  if (first && first !== decl && effective === decl && s.overridable) lines.push('', `Overrides the param declared at ${where(first)}.`);
  if (s.overridable) lines.push('', `A param: \`moec … --set ${decl.name}=…\` gives it another value.`);
  return lines.join('\n');
}

function where(d: Declaration): string {
  return `${d.span.file}:${d.span.line}:${d.span.col}`;
}
