// Progress of long work (reading weights, rendering or compiling kernels, benchmark iterations), reported through a
// callback so the library stays free of terminal code: the CLI draws a bar (bin/progress.ts), a page or a test may
// do anything else, and no callback costs nothing.

/**
 * Called as work advances: `done` of `total` units of the step named by `label` (`done === total` ends the step).
 * `unit` 'bytes' says the counts are bytes (for display); otherwise they are items (kernels, files, iterations).
 */
export type OnProgress = (done: number, total: number, label: string, unit?: 'bytes') => void;

/** A callback with every label prefixed (`wasm simd: rendering kernels`), or undefined for none. */
export function prefixed(onProgress: OnProgress | undefined, prefix: string): OnProgress | undefined {
  return onProgress && ((done, total, label, unit) => onProgress(done, total, `${prefix}${label}`, unit));
}
