// Attention on the wasm target (two gemm calls per head, causal query blocks, RoPE from a table) against the kernel
// interpreter's online-softmax loop nest, on the shared cases of tests/helpers/attention-cases.ts.
import { describe, expect, it } from 'vitest';
import { runProgram } from '../../compiler/kernel/interpret.ts';
import { planMemory } from '../../compiler/kernel/memory-plan.ts';
import { scheduleGraph } from '../../compiler/kernel/schedule.ts';
import { gemmConfig, gemmScratch, panelWidth } from '../../targets/wasm/gemm.ts';
import { renderProgram } from '../../targets/wasm/render.ts';
import { tensorize } from '../../targets/wasm/tensorize.ts';
import { WasmProgram } from '../../runtime/wasm/run.ts';
import { relativeL2 } from '../helpers/compare.ts';
import { attentionCases, attentionGraph, attentionInputs, attentionSizes } from '../helpers/attention-cases.ts';

describe.each(attentionCases)('$name', (c) => {
  const g = attentionGraph(c);
  const program = scheduleGraph(g);
  it.each(attentionSizes)('batch %i, %i tokens, 1 and 2 threads', (batch, seq) => {
    const inputs = attentionInputs(c, batch, seq);
    const sizes = { batch, seq };
    const want = runProgram(program, { params: () => new Float32Array(0), inputs, sizes });
    const gemm = gemmConfig(false);
    const t = tensorize(program, { nr: panelWidth(gemm), gemmScratch });
    const { binary, sizes: sizeNames } = renderProgram(t, { gemm, shared: true });
    for (const threads of [1, 2]) {
      const wasm = new WasmProgram(t, planMemory(t), binary, sizeNames, { threads });
      try {
        expect(relativeL2(wasm.run({ params: () => new Float32Array(0), inputs, sizes }).y!, want.y!)).toBeLessThan(1e-5);
      } finally {
        wasm.close();
      }
    }
  });
});
