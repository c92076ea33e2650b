// Progress bars for the CLI: one line on stderr, redrawn in place, only when stderr is a terminal and neither
// --quiet nor --json was given (logs and pipes stay clean). The library reports through runtime/progress.ts.
import type { OnProgress } from '../runtime/progress.ts';

const BAR = 20;
/** Redraws at most this often (ms); the first update of a step and its end are always drawn. */
const INTERVAL = 80;

/** 1536 → '1.5 KiB'; binary units, one decimal from KiB up. */
export function formatBytes(n: number): string {
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  if (n < 1024) return `${n} B`;
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

/** The bar's line for a terminal `width` columns wide (it never fills the last column, where some terminals wrap):
 * `label [#####...............]  25% 1/4`, the label shortened with '…' when the line would not fit. */
export function progressLine(done: number, total: number, label: string, width: number, unit?: 'bytes'): string {
  const frac = total > 0 ? Math.min(1, Math.max(0, done / total)) : 1;
  const counts = unit === 'bytes' ? `${formatBytes(done)}/${formatBytes(total)}` : `${done}/${total}`;
  const tail = ` ${`${Math.floor(frac * 100)}%`.padStart(4)} ${counts}`;
  const filled = Math.round(frac * BAR);
  const bar = ` [${'#'.repeat(filled)}${'.'.repeat(BAR - filled)}]`;
  const room = width - 1;
  const forLabel = room - bar.length - tail.length;
  if (label.length <= forLabel) return `${label}${bar}${tail}`;
  if (forLabel >= 2) return `${label.slice(0, forLabel - 1)}…${bar}${tail}`;
  return tail.trimStart().slice(0, Math.max(0, room));
}

export interface ProgressBar {
  onProgress: OnProgress;
  /** Clears the line if a bar is showing (call before other output, and when the work ends or fails). */
  end(): void;
}

/** What a bar needs of stderr. */
export interface BarStream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

/** A bar on `stream`, or undefined (no progress reported at all) off a terminal, with --quiet or with --json. */
export function progressBar(opts: { quiet?: boolean; json?: boolean }, stream: BarStream = process.stderr, now: () => number = () => performance.now()): ProgressBar | undefined {
  if (!stream.isTTY || opts.quiet || opts.json) return undefined;
  let showing = false;
  let last = -Infinity;
  let lastLabel = '';
  const end = () => {
    if (showing) stream.write('\r\x1b[K');
    showing = false;
  };
  const onProgress: OnProgress = (done, total, label, unit) => {
    if (done >= total) return end();
    const t = now();
    if (showing && label === lastLabel && t - last < INTERVAL) return;
    stream.write(`\r${progressLine(done, total, label, stream.columns || 80, unit)}\x1b[K`);
    showing = true;
    last = t;
    lastLabel = label;
  };
  return { onProgress, end };
}
