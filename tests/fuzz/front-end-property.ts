// The front end's contract on any input: it ends in a checked model or in diagnostics, each with a message and a span
// that lies inside a source it read (file:line:col consistent with the offset); it throws nothing else and takes
// less than a deadline. `frontEndViolations` returns what broke the contract (empty: the input passed).
import { performance } from 'node:perf_hooks';
import { check, renderDiagnostics, type Checked } from '../../compiler/api.ts';
import type { Diagnostic } from '../../dsl/diagnostics.ts';
import { spanAt, type SourceFile } from '../../dsl/source.ts';

export const DEADLINE_MS = 2000;

export interface FrontEndOutcome {
  checked?: Checked;
  /** Violations of the contract; empty when the input passed. */
  violations: string[];
  ms: number;
}

/** What is wrong with one diagnostic, or undefined: a message, and a span inside a source with a matching line:col. */
export function diagnosticViolation(d: Diagnostic, sources: ReadonlyMap<string, SourceFile>): string | undefined {
  if (typeof d.message !== 'string' || d.message.trim() === '') return 'a diagnostic without a message';
  const s = d.span;
  if (!s) return `no file:line:col for '${d.message}'`;
  const src = sources.get(s.file);
  if (!src) return `'${d.message}' points into ${s.file}, which is not a source that was read`;
  if (!(Number.isInteger(s.start) && s.start >= 0 && s.start <= src.text.length && s.end > s.start)) {
    return `'${d.message}' has the span [${s.start}, ${s.end}) outside ${s.file} (${src.text.length} characters)`;
  }
  const expected = spanAt(s.file, src.text, s.start, s.end);
  if (expected.line !== s.line || expected.col !== s.col) {
    return `'${d.message}' says ${s.line}:${s.col} for offset ${s.start}, which is ${expected.line}:${expected.col}`;
  }
  return undefined;
}

/** Checks `text` as the contents of `path` (imports resolve next to it) and reports every broken promise. */
export function checkFrontEnd(path: string, text: string, deadlineMs = DEADLINE_MS): FrontEndOutcome {
  const t0 = performance.now();
  const violations: string[] = [];
  let checked: Checked | undefined;
  try {
    checked = check(path, {}, text);
    renderDiagnostics(checked);
  } catch (e) {
    violations.push(`threw ${e instanceof Error ? `${e.name}: ${e.message}\n${e.stack}` : String(e)}`);
  }
  const ms = performance.now() - t0;
  if (ms > deadlineMs) violations.push(`took ${ms.toFixed(0)} ms (limit ${deadlineMs} ms)`);
  if (checked) {
    if (!checked.model && !checked.diagnostics.some((d) => d.severity === 'error')) violations.push('no model and no error');
    for (const d of checked.diagnostics) {
      const v = diagnosticViolation(d, checked.sources);
      if (v) violations.push(v);
    }
  }
  return { checked, violations, ms };
}
