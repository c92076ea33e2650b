// A graph of every matrix product the targets tile (plain, biased with an activation, gated, with a residual, grouped
// over three experts), for checking a target's matmul against the kernel interpreter's loop nests.
import { mulberry32 } from '../../compiler/ir/hash.ts';
import { parseGraph } from '../../compiler/ir/parse.ts';

export const productsGraph = (N: number, K: number) => parseGraph(`graph products {
  input %x: f32[rows, ${K}]
  input %offsets: i32[4]
  param @w: f32[${N}, ${K}]
  param @b: f32[${N}]
  param @wg: f32[${N}, ${K}]
  param @wu: f32[${N}, ${K}]
  param @r: f32[${N}, ${N}]
  param @we: f32[3, ${N}, ${K}]
  param @be: f32[3, ${N}]
  %0 = linear(%x, @w, @b) {act = "gelu"} : f32[rows, ${N}]
  %1 = gated_linear(%x, @wg, @wu) {act = "silu"} : f32[rows, ${N}]
  %2 = linear_add(%1, @r, %0) : f32[rows, ${N}]
  %3 = grouped_linear(%x, @we, %offsets, @be) {act = "relu"} : f32[rows, ${N}]
  %4 = linear(%x, @w) : f32[rows, ${N}]
  output y = %2
  output experts = %3
  output plain = %4
}`);

export function random(n: number, seed: number): Float32Array {
  const rand = mulberry32(seed);
  return Float32Array.from({ length: n }, () => rand() - 0.5);
}

