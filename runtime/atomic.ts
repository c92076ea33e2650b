// Atomic outputs: every file or folder moec writes is built under a temporary name in the same folder, then renamed
// into place, so a crash, a full disk or a kill -9 leaves either the previous output or the complete new one, and
// never a half-written one. rename(2) within one file system is atomic; the temporary sits beside the destination
// for that reason.
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Where `path` is built before the rename: beside it, named after it and this process. */
export function temporaryFor(path: string, what = 'tmp'): string {
  return join(dirname(path), `${basename(path)}.${what}-${process.pid}`);
}

/** Runs `write(temp)`, then renames `temp` over `path`; on any failure the temporary is removed and `path` untouched. */
export function replaceAtomically(path: string, write: (temp: string) => void): void {
  const temp = temporaryFor(path);
  try {
    write(temp);
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { recursive: true, force: true });
    throw error;
  }
}

export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  replaceAtomically(path, (temp) => writeFileSync(temp, data));
}

/**
 * Builds a folder with `build(temp)` in a temporary folder beside `dir`, then puts it in place of `dir`: a rename when
 * `dir` does not exist; otherwise the old folder is renamed aside, the new one renamed in, and the old one removed
 * (between those two renames `dir` is briefly absent, never partial). On failure the previous folder stays as it was.
 */
export function writeFolderAtomic(dir: string, build: (temp: string) => void): void {
  mkdirSync(dirname(dir), { recursive: true });
  const temp = temporaryFor(dir);
  rmSync(temp, { recursive: true, force: true });
  mkdirSync(temp);
  try {
    build(temp);
  } catch (error) {
    rmSync(temp, { recursive: true, force: true });
    throw error;
  }
  if (!existsSync(dir)) {
    try {
      renameSync(temp, dir);
    } catch (error) {
      rmSync(temp, { recursive: true, force: true });
      throw error;
    }
    return;
  }
  const old = temporaryFor(dir, 'old');
  rmSync(old, { recursive: true, force: true });
  renameSync(dir, old);
  try {
    renameSync(temp, dir);
  } catch (error) {
    renameSync(old, dir);
    rmSync(temp, { recursive: true, force: true });
    throw error;
  }
  rmSync(old, { recursive: true, force: true });
}

/**
 * Why `dir` cannot be a compiled model's output folder, or undefined when it can: absent (under folders, or where
 * folders can be made), empty, or a previous output (it has a manifest.json). Checked before any work is done.
 */
export function outputFolderProblem(dir: string): string | undefined {
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) return 'it is a file, not a folder';
    if (existsSync(join(dir, 'manifest.json')) || readdirSync(dir).length === 0) return undefined;
    return 'it exists and is not a folder moec compiled (no manifest.json); moec replaces its output folder whole, so pick another path or remove it';
  }
  for (let up = dirname(dir); ; up = dirname(up)) {
    if (existsSync(up)) return statSync(up).isDirectory() ? undefined : `${up} is a file, not a folder`;
    if (dirname(up) === up) return undefined;
  }
}
