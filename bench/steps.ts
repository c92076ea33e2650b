// A benchmark's measurements as numbered steps on a progress bar (stderr, on a terminal only, not with --quiet or
// --json): start(label) before each step, clear() before printing a line of results.
import { progressBar } from '../bin/progress.ts';

export function benchSteps(total: number, opts: { quiet?: boolean; json?: boolean }): { start(label: string): void; clear(): void } {
  const bar = progressBar(opts);
  let done = 0;
  return {
    start: (label) => bar?.onProgress(done++, total, label),
    clear: () => bar?.end(),
  };
}
