// The wasm target's tiled SIMD matmul against the kernel interpreter's loop nests, on shapes that exercise every edge
// of the tiling: rows not a multiple of the register tile or of the row block, widths not a multiple of the panel,
// inner dimensions longer than one K block, experts with no rows, and 1, 2 and 3 threads splitting the panels.
import { describe, expect, it } from 'vitest';
import { parseGraph } from '../../compiler/ir/parse.ts';
import { runProgram } from '../../compiler/kernel/interpret.ts';
import { planMemory } from '../../compiler/kernel/memory-plan.ts';
import { scheduleGraph } from '../../compiler/kernel/schedule.ts';
import { relaxedSimdSupported } from '../../runtime/wasm/features.ts';
import { gemmConfig, gemmScratch, panelWidth } from '../../targets/wasm/gemm.ts';
import { renderProgram } from '../../targets/wasm/render.ts';
import { tensorize } from '../../targets/wasm/tensorize.ts';
import { WasmProgram } from '../../runtime/wasm/run.ts';
import { mulberry32 } from '../../compiler/ir/hash.ts';
import { relativeL2 } from '../helpers/compare.ts';

const graph = (N: number, K: number) => parseGraph(`graph products {
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

function random(n: number, seed: number): Float32Array {
  const rand = mulberry32(seed);
  return Float32Array.from({ length: n }, () => rand() - 0.5);
}

describe.each([
  [1, 8, 5],
  [7, 24, 3],
  [13, 37, 300],
  [101, 64, 520],
])('rows %i, width %i, inner %i', (rows, N, K) => {
  const g = graph(N, K);
  const program = scheduleGraph(g);
  const params = new Map<string, Float32Array>();
  let seed = 1;
  for (const p of g.params) params.set(p.name, random(p.type.shape.reduce<number>((a, d) => a * Number(d), 1), seed++));
  const third = Math.floor(rows / 3);
  const inputs = { x: random(rows * K, 99), offsets: Int32Array.from([0, third, third, rows]) };
  const want = runProgram(program, { params: (n) => params.get(n)!, inputs, sizes: { rows } });

  it('fuses what it should', () => {
    expect(program.kernels.filter((k) => k.gemm).map((k) => k.ops[0])).toEqual(['linear', 'gated_linear', 'linear_add', 'grouped_linear', 'linear']);
  });

  it.each([[false, 1], [true, 1], [true, 2], [false, 3]])('fma %s, %i threads: the same outputs as the loop nests', (fma, threads) => {
    if (fma && !relaxedSimdSupported()) return;
    const gemm = gemmConfig(fma);
    const t = tensorize(program, { nr: panelWidth(gemm), gemmScratch });
    const { binary, sizes } = renderProgram(t, { gemm, shared: true });
    const wasm = new WasmProgram(t, planMemory(t), binary, sizes, { threads });
    try {
      const got = wasm.run({ params: (n) => params.get(n)!, inputs, sizes: { rows } });
      expect(Object.fromEntries(['y', 'experts', 'plain'].map((n) => [n, relativeL2(got[n]!, want[n]!) < 1e-6]))).toEqual({ y: true, experts: true, plain: true });
    } finally {
      wasm.close();
    }
  });
});
