// The wasm target's tiled SIMD matmul against the kernel interpreter's loop nests, on shapes that exercise every edge
// of the tiling: rows not a multiple of the register tile or of the row block, widths not a multiple of the panel,
// inner dimensions longer than one K block, experts with no rows, and 1, 2 and 3 threads splitting the panels.
import { describe, expect, it } from 'vitest';
import { runProgram } from '../../compiler/kernel/interpret.ts';
import { planMemory } from '../../compiler/kernel/memory-plan.ts';
import { scheduleGraph } from '../../compiler/kernel/schedule.ts';
import { relaxedSimdSupported } from '../../runtime/wasm/features.ts';
import { gemmConfig, gemmScratch, panelWidth } from '../../targets/wasm/gemm.ts';
import { renderProgram } from '../../targets/wasm/render.ts';
import { tensorize } from '../../targets/wasm/tensorize.ts';
import { WasmProgram } from '../../runtime/wasm/run.ts';
import { relativeL2 } from '../helpers/compare.ts';
import { productsGraph, random } from '../helpers/products.ts';

describe.each([
  [1, 8, 5],
  [7, 24, 3],
  [13, 37, 300],
  [101, 64, 520],
])('rows %i, width %i, inner %i', (rows, N, K) => {
  const g = productsGraph(N, K);
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
