// Reads a .moe file and everything it imports, in dependency order, reporting missing files and import cycles at the import.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import type { Module } from './ast.ts';
import { error, type Diagnostic } from './diagnostics.ts';
import { parseModule } from './parse.ts';
import type { SourceFile } from './source.ts';

/** Deeper import chains than this are refused: a bound, not a language feature. */
export const MAX_IMPORT_DEPTH = 32;
const MAX_SOURCE_BYTES = 4 * 1024 * 1024;

export interface LoadedProgram {
  /** Modules in dependency order: every module comes after the modules it imports. */
  modules: Module[];
  sources: Map<string, SourceFile>;
  diagnostics: Diagnostic[];
  root: string;
}

/** Paths in diagnostics are shown relative to the working directory, as compilers do. */
export function displayPath(abs: string): string {
  const rel = relative(process.cwd(), abs);
  return rel.startsWith('..') ? abs : rel;
}

export function loadProgram(rootPath: string, overrideText?: string): LoadedProgram {
  const sources = new Map<string, SourceFile>();
  const modules: Module[] = [];
  const diagnostics: Diagnostic[] = [];
  const done = new Set<string>();
  const root = displayPath(resolve(rootPath));

  const visit = (abs: string, chain: string[]): void => {
    const shown = displayPath(abs);
    if (done.has(shown)) return;
    let text: string;
    if (overrideText !== undefined && shown === root) {
      text = overrideText;
    } else {
      const size = statSync(abs).size;
      if (size > MAX_SOURCE_BYTES) {
        diagnostics.push(error(`${shown} is ${size} bytes; a .moe file may be at most ${MAX_SOURCE_BYTES} bytes`));
        done.add(shown);
        return;
      }
      text = readFileSync(abs, 'utf8');
    }
    sources.set(shown, { path: shown, text });
    const parsed = parseModule(text, shown);
    diagnostics.push(...parsed.diagnostics);
    for (const s of parsed.module.statements) {
      if (s.kind !== 'import') continue;
      const target = resolve(dirname(abs), s.path);
      const targetShown = displayPath(target);
      if (chain.includes(targetShown) || targetShown === shown) {
        const cycle = [...chain.slice(chain.indexOf(targetShown)), shown, targetShown].join(' -> ');
        diagnostics.push(error(`import cycle: ${cycle}`, s.span, 'a file cannot import itself, directly or through other files'));
        continue;
      }
      if (chain.length + 1 >= MAX_IMPORT_DEPTH) {
        diagnostics.push(error(`imports nested deeper than ${MAX_IMPORT_DEPTH} files`, s.span));
        continue;
      }
      if (!existsSync(target) || !statSync(target).isFile()) {
        diagnostics.push(error(`cannot import "${s.path}": no such file (${targetShown})`, s.span, 'import paths are relative to the importing file'));
        continue;
      }
      visit(target, [...chain, shown]);
    }
    done.add(shown);
    modules.push(parsed.module);
  };

  const abs = resolve(rootPath);
  if (overrideText === undefined && (!existsSync(abs) || !statSync(abs).isFile())) {
    diagnostics.push(error(`cannot read ${root}: ${existsSync(abs) ? 'it is a folder, not a .moe file' : 'no such file'}`));
    return { modules, sources, diagnostics, root };
  }
  visit(abs, []);
  return { modules, sources, diagnostics, root };
}
