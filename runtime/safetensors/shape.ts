/** How shapes appear in every message, so users can compare them at a glance. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

export function isValidShape(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((d) => Number.isSafeInteger(d) && d >= 0);
}

/**
 * BigInt because a hostile header can claim dimensions whose product overflows
 * 2^53, and a rounded product could then match a forged byte length.
 */
export function elementCount(shape: readonly number[]): bigint {
  let count = 1n;
  for (const dim of shape) count *= BigInt(dim);
  return count;
}
