// Go to definition: from a name to where it is declared (in this file or one it imports), from an import to its file.
import { dirname, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import type { Analysis } from './analyze.ts';
import { sourceText } from './analyze.ts';
import { spanToRange, type Range } from './positions.ts';
import { siteAt } from './sites.ts';
import { spanFileToPath } from './uri.ts';

export interface Location {
  /** An absolute path; the document's own path when the declaration is in it. */
  path: string;
  range: Range;
}

export function definitionAt(a: Analysis, offset: number): Location | undefined {
  const site = siteAt(a.sites, offset);
  if (!site) return undefined;
  if (site.kind === 'import') {
    const target = resolve(dirname(a.path), site.path);
    return existsSync(target) ? { path: target, range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } } } : undefined;
  }
  if (site.kind !== 'reference' && site.kind !== 'declaration') return undefined;
  const decls = a.program.declarations.get(site.name) ?? [];
  // A name declared in this file is the one meant here; otherwise the declaration whose value it has.
  const decl = decls.find((d) => d.span.file === a.root) ?? a.program.effective.get(site.name) ?? decls[0];
  if (!decl) return undefined;
  const text = sourceText(a, decl.span.file);
  if (text === undefined) return undefined;
  const path = decl.span.file === a.root ? a.path : spanFileToPath(decl.span.file);
  return { path, range: spanToRange(decl.span, text) };
}
