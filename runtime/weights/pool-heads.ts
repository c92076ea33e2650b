// Mean-pooling attention heads: GQA (Ainslie et al. 2023) §2.1, uptraining: "the key and value projection matrices
// are mean pooled" — each group's key/value head is the mean of the original heads in that group (§2.2: groups of
// consecutive heads, the layout `kv_heads` attention reads, query head h using key/value head h / (heads / kv_heads)).

/**
 * A tensor whose first axis is `heads` heads of equal size ([heads·head_dim, …]: a projection's weight or bias, or a
 * norm's gain over the whole projection) with each group of `heads / groups` consecutive heads replaced by its mean:
 * [groups·head_dim, …]. Sums in float64, so the result is the mean of the values given, rounded once.
 */
export function poolHeads(data: Float32Array, heads: number, groups: number): Float32Array {
  if (!Number.isInteger(heads) || !Number.isInteger(groups) || groups < 1 || heads % groups !== 0 || data.length % heads !== 0) {
    throw new Error(`cannot pool ${data.length} values of ${heads} heads into ${groups} groups`);
  }
  const perHead = data.length / heads;
  const size = heads / groups;
  const out = new Float32Array(groups * perHead);
  const sum = new Float64Array(perHead);
  for (let g = 0; g < groups; g++) {
    sum.fill(0);
    for (let h = g * size; h < (g + 1) * size; h++) {
      const row = data.subarray(h * perHead, (h + 1) * perHead);
      for (let i = 0; i < perHead; i++) sum[i] += row[i]!;
    }
    const dst = out.subarray(g * perHead, (g + 1) * perHead);
    for (let i = 0; i < perHead; i++) dst[i] = sum[i]! / size;
  }
  return out;
}
