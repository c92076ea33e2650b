// node:fs for the page: the .moe files the front end may read (the examples, by absolute path under /examples),
// from a map the page fills. Only what dsl/load.ts calls.
export const files = new Map<string, string>();

const missing = (path: string) => Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: 'ENOENT', path });

export function existsSync(path: string): boolean {
  return files.has(path);
}
export function statSync(path: string): { size: number; isFile(): boolean } {
  const text = files.get(path);
  if (text === undefined) throw missing(path);
  return { size: text.length, isFile: () => true };
}
export function readFileSync(path: string): string {
  const text = files.get(path);
  if (text === undefined) throw missing(path);
  return text;
}
export default { existsSync, statSync, readFileSync };
