// Numbers and layer lists the way hovers show them.
import { formatNumber } from '../../compiler/spec/values.ts';
import type { Value } from '../../compiler/spec/values.ts';

/** 1409318912 → 1,409,318,912; fractions keep six significant digits. */
export function formatCount(n: number): string {
  return Number.isInteger(n) ? n.toLocaleString('en-US') : formatNumber(n);
}

/** [0, 1, 2, 5, 7, 8] → "0–2, 5, 7–8" */
export function formatIndices(xs: readonly number[]): string {
  const sorted = [...new Set(xs)].sort((a, b) => a - b);
  const runs: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    runs.push(j === i ? `${sorted[i]}` : `${sorted[i]}–${sorted[j]}`);
    i = j + 1;
  }
  return runs.join(', ');
}

export function formatValue(v: Value): string {
  switch (v.t) {
    case 'number': return formatNumber(v.v);
    case 'string': return JSON.stringify(v.v);
    case 'bool': return String(v.v);
    case 'none': return 'none';
    case 'symbol': return v.v;
    case 'list': return `[${v.items.map(formatValue).join(', ')}]`;
    case 'object': return v.type ? `${v.type} { … }` : '{ … }';
  }
}
