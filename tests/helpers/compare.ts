// Numerical comparison helpers for checking outputs against references.

export function relativeL2(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < want.length; i++) {
    const d = got[i]! - want[i]!;
    num += d * d;
    den += want[i]! * want[i]!;
  }
  return Math.sqrt(num / Math.max(den, 1e-30));
}

/** The indices of the k largest entries of each row (ties: lower index), as sorted sets for comparison. */
export function topkSets(data: ArrayLike<number>, cols: number, k: number): number[][] {
  const rows = data.length / cols;
  const out: number[][] = [];
  for (let r = 0; r < rows; r++) {
    const idx = Array.from({ length: cols }, (_, c) => c);
    idx.sort((a, b) => data[r * cols + b]! - data[r * cols + a]! || a - b);
    out.push(idx.slice(0, k).sort((a, b) => a - b));
  }
  return out;
}
