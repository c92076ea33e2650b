// One check of a document's text (and the files it imports, read from disk) and what the editor features read off it.
import { check, type Checked } from '../../compiler/api.ts';
import type { Module } from '../ast.ts';
import { error } from '../diagnostics.ts';
import { displayPath } from '../load.ts';
import { parseModule } from '../parse.ts';
import { resolve } from 'node:path';
import { buildScope, kindOfName, type ProgramScope } from './scope.ts';
import { sitesOf, type Site } from './sites.ts';

export interface Analysis {
  /** The document's path; its spans name it as `root`. */
  path: string;
  root: string;
  text: string;
  checked: Checked;
  /** The document's module and every module it imports, in dependency order. */
  modules: Module[];
  module: Module;
  program: ProgramScope;
  sites: Site[];
}

export function analyze(path: string, text: string): Analysis {
  const root = displayPath(resolve(path));
  let checked: Checked;
  try {
    checked = check(path, {}, text);
  } catch (e) {
    // A bug in the compiler should cost the editor its diagnostics for this text, not the server.
    const message = `internal error in moec: ${(e as Error)?.message ?? String(e)}`;
    const sources = new Map([[root, { path: root, text }]]);
    checked = { diagnostics: [error(message)], sources, program: { modules: [], sources, diagnostics: [], root } };
  }
  const modules = checked.program.modules;
  const module = modules.find((m) => m.file === root) ?? safeParse(text, root);
  const all = modules.includes(module) ? modules : [...modules, module];
  const program = buildScope(all);
  const sites = sitesOf(module, (name) => kindOfName(program, name));
  return { path: resolve(path), root, text, checked, modules: all, module, program, sites };
}

function safeParse(text: string, file: string): Module {
  try {
    return parseModule(text, file).module;
  } catch {
    return { file, statements: [] };
  }
}

/** The text of a file the analysis read: the document itself or one of its imports. */
export function sourceText(a: Analysis, file: string): string | undefined {
  return file === a.root ? a.text : a.checked.sources.get(file)?.text;
}
