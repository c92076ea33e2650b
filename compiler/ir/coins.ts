// The coins of the random_second op (GShard's random routing of the second expert, Lepikhin et al. 2021, Alg. 1):
// part of the op's meaning, so the reference executor and every compiled target toss the same coins.
import { mulberry32 } from './hash.ts';

/** How many coins a seed gives; token t tosses coin t mod COIN_PERIOD. */
export const COIN_PERIOD = 4096;

/** Uniform draws in [0, 1) from mulberry32(seed), rounded to f32 as every target stores them. */
export function secondExpertCoins(seed: number): Float32Array {
  const rand = mulberry32(seed);
  return Float32Array.from({ length: COIN_PERIOD }, () => rand());
}
