// Document URIs and the file paths the compiler reads and names in spans.
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The path the compiler reads for a document; a buffer with no file (untitled:…) checks as if in the working directory. */
export function uriToPath(uri: string): string {
  if (uri.startsWith('file:')) return fileURLToPath(uri);
  const name = uri.replace(/^[a-z]+:/i, '').replace(/[^A-Za-z0-9_.-]+/g, '_') || 'untitled';
  return resolve(process.cwd(), name.endsWith('.moe') ? name : `${name}.moe`);
}

/** A span's file (shown relative to the working directory, see dsl/load.ts displayPath) as an absolute path. */
export function spanFileToPath(file: string): string {
  return isAbsolute(file) ? file : resolve(process.cwd(), file);
}

export function pathToUri(path: string): string {
  return pathToFileURL(path).href;
}
