// Writing command output: to stdout, or atomically to a file (a temporary file renamed into place), so an
// interrupted command never leaves a half-written output behind.
import { writeFileAtomic } from '../runtime/atomic.ts';

/** One helper for every file moec writes: runtime/atomic.ts (folders: writeFolderAtomic there). */
export const writeAtomic = writeFileAtomic;

export function emit(text: string, outFile?: string): void {
  if (outFile) writeAtomic(outFile, text.endsWith('\n') ? text : `${text}\n`);
  else process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** A command's --json output: one object, pretty-printed, on stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** `--set a=1 --set b=2` → { a: "1", b: "2" } */
export function parseSets(values: readonly string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values ?? []) {
    const i = v.indexOf('=');
    if (i <= 0) throw new UsageError(`--set expects NAME=VALUE, got '${v}'`);
    out[v.slice(0, i).trim()] = v.slice(i + 1).trim();
  }
  return out;
}

/** A mistake in how the command was called; printed without a stack trace. */
export class UsageError extends Error {}

/** --expert-parallel N as a number of ranks (undefined when not given). */
export function parseExpertParallel(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--expert-parallel must be a positive integer, got '${value}'`);
  return n;
}

/** Diagnostics already printed by a command; the exit status is all that is left to set. */
export class ReportedError extends Error {}
