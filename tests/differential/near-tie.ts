// Whether a routing decision was legitimately ambiguous: two scores of one row (along the experts axis) or of one
// column (along the tokens axis, where experts choose tokens) within `eps` of each other, relative to their size.
// Two executors may then pick differently without either being wrong, so a comparison stops there.

/** The smallest relative gap between two entries of a line of `data` viewed as [rows, cols], along either axis. */
export function smallestGap(data: Float32Array, cols: number): number {
  const rows = data.length / cols;
  let gap = Infinity;
  const line = (at: (i: number) => number, n: number) => {
    const v = Array.from({ length: n }, (_, i) => at(i)).filter(Number.isFinite).sort((a, b) => a - b);
    for (let i = 1; i < v.length; i++) gap = Math.min(gap, (v[i]! - v[i - 1]!) / Math.max(1, Math.abs(v[i]!)));
  };
  for (let r = 0; r < rows; r++) line((c) => data[r * cols + c]!, cols);
  for (let c = 0; c < cols; c++) line((r) => data[r * cols + c]!, rows);
  return gap;
}

export const nearTie = (data: Float32Array, cols: number, eps = 1e-6) => smallestGap(data, cols) <= eps;
