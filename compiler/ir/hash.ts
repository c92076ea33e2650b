// The hash of the hash_route op (Hash Layers, Roller et al. 2021): part of the op's meaning, so the reference
// executor and every compiled target build the same table from it.

/** mulberry32 (Tommy Ettinger): a small seeded PRNG, so hash routing is reproducible on every target. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Hash Layers' balanced random assignment (Roller et al. 2021): a Fisher–Yates shuffle of the ids 0 … vocab-1
 * driven by mulberry32(seed) (for i = vocab-1 down to 1, swap i with ⌊rand()·(i+1)⌋), dealt round-robin, so the
 * id at shuffled position p goes to expert p mod experts and every expert gets ⌊vocab/experts⌋ or ⌈vocab/experts⌉ ids.
 */
export function balancedHash(vocab: number, experts: number, seed: number): Int32Array {
  const perm = Array.from({ length: vocab }, (_, i) => i);
  const rand = mulberry32(seed);
  for (let i = vocab - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [perm[i], perm[j]] = [perm[j]!, perm[i]!];
  }
  const table = new Int32Array(vocab);
  perm.forEach((id, pos) => (table[id] = pos % experts));
  return table;
}

/** The expert of every token id for a hash_route node, so a backend can precompute the same table. */
export function hashRouteTable(method: string, vocab: number, experts: number, seed: number): Int32Array {
  if (method === 'modulo') return Int32Array.from({ length: vocab }, (_, id) => id % experts);
  if (method === 'random') return balancedHash(vocab, experts, seed);
  throw new Error(`hash_route method must be "modulo" or "random", got ${JSON.stringify(method)}`);
}
