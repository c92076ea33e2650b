// Diagnostics: one message per problem, with file:line:col, the source line and a caret under the offending token.
import { lineOf, type SourceFile, type Span } from './source.ts';

export interface Diagnostic {
  readonly severity: 'error' | 'warning';
  readonly message: string;
  readonly span?: Span;
  /** What was expected or how to fix it, printed under the caret. */
  readonly hint?: string;
}

export function error(message: string, span?: Span, hint?: string): Diagnostic {
  return { severity: 'error', message, span, hint };
}

/** Thrown by front-end stages that stop at their first batch of errors; carries all of them. */
export class SpecError extends Error {
  constructor(readonly diagnostics: readonly Diagnostic[], readonly sources?: ReadonlyMap<string, SourceFile>) {
    super(diagnostics.map((d) => d.message).join('\n'));
    this.name = 'SpecError';
  }
}

export function hasErrors(diags: readonly Diagnostic[]): boolean {
  return diags.some((d) => d.severity === 'error');
}

/**
 * Renders a diagnostic the way rustc and clang do:
 *   error: unknown field 'topk' in moe
 *     --> examples/mixtral.moe:12:5
 *      |
 *   12 |     topk: 2
 *      |     ^^^^
 *      = expected one of: experts, top_k, ...
 */
export function formatDiagnostic(d: Diagnostic, sources: ReadonlyMap<string, SourceFile>): string {
  const out = [`${d.severity}: ${d.message}`];
  const span = d.span;
  if (span) {
    out.push(`  --> ${span.file}:${span.line}:${span.col}`);
    const src = sources.get(span.file);
    if (src) {
      const text = lineOf(src.text, span.line).replace(/\t/g, ' ');
      const gutter = String(span.line).length;
      const pad = ' '.repeat(gutter);
      const width = Math.max(1, Math.min(span.end - span.start, text.length - span.col + 1));
      out.push(`${pad} |`);
      out.push(`${span.line} | ${text}`);
      out.push(`${pad} | ${' '.repeat(span.col - 1)}${'^'.repeat(width)}`);
      if (d.hint) out.push(`${pad} = ${d.hint}`);
      return out.join('\n');
    }
  }
  if (d.hint) out.push(`  = ${d.hint}`);
  return out.join('\n');
}

export function formatDiagnostics(diags: readonly Diagnostic[], sources: ReadonlyMap<string, SourceFile>): string {
  const body = diags.map((d) => formatDiagnostic(d, sources)).join('\n\n');
  const n = diags.filter((d) => d.severity === 'error').length;
  return n > 0 ? `${body}\n\n${n} error${n === 1 ? '' : 's'}` : body;
}
