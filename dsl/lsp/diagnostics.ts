// Compiler diagnostics as LSP diagnostics of the document: spans become ranges, hints follow the message.
// A problem in an imported file is shown at the import that brings it in.
import { dirname, resolve } from 'node:path';
import type { Diagnostic } from '../diagnostics.ts';
import type { Analysis } from './analyze.ts';
import { spanToRange, type Range } from './positions.ts';
import { spanFileToPath } from './uri.ts';

export interface LspDiagnostic {
  range: Range;
  /** 1 error, 2 warning (LSP DiagnosticSeverity). */
  severity: 1 | 2;
  source: 'moec';
  message: string;
}

export function toLspDiagnostics(a: Analysis): LspDiagnostic[] {
  return a.checked.diagnostics.map((d) => toLsp(d, a));
}

function toLsp(d: Diagnostic, a: Analysis): LspDiagnostic {
  const severity = d.severity === 'error' ? 1 : 2;
  const text = d.hint ? `${d.message}\n${d.hint}` : d.message;
  const span = d.span;
  if (span && span.file === a.root) return { range: spanToRange(span, a.text), severity, source: 'moec', message: text };
  const where = span ? `${span.file}:${span.line}:${span.col}: ` : '';
  const imp = span ? importLeadingTo(a, spanFileToPath(span.file)) : undefined;
  const range = imp ? spanToRange(imp, a.text) : { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
  return { range, severity, source: 'moec', message: `${where}${text}` };
}

/** The import statement of the document whose file is `target` (or imports it, a level or more down). */
function importLeadingTo(a: Analysis, target: string) {
  const imports = a.module.statements.flatMap((s) => (s.kind === 'import' ? [s] : []));
  const direct = imports.find((s) => resolve(dirname(a.path), s.path) === target);
  return (direct ?? imports[0])?.span;
}
