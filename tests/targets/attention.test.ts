// Attention on the wasm target (two gemm calls per head, causal query blocks, RoPE from a table) against the kernel
// interpreter's online-softmax loop nest: causal and not, GQA, RoPE in halves and interleaved with a partial rotary
// width, an additive bias, a value width that is not a whole panel, and sequences longer than one query block.
import { describe, expect, it } from 'vitest';
import { parseGraph } from '../../compiler/ir/parse.ts';
import { runProgram } from '../../compiler/kernel/interpret.ts';
import { planMemory } from '../../compiler/kernel/memory-plan.ts';
import { scheduleGraph } from '../../compiler/kernel/schedule.ts';
import { mulberry32 } from '../../compiler/ir/hash.ts';
import { gemmConfig, gemmScratch, panelWidth } from '../../targets/wasm/gemm.ts';
import { renderProgram } from '../../targets/wasm/render.ts';
import { tensorize } from '../../targets/wasm/tensorize.ts';
import { WasmProgram } from '../../runtime/wasm/run.ts';
import { relativeL2 } from '../helpers/compare.ts';

const cases = [
  { name: 'causal GQA with RoPE in halves', attrs: 'causal = true, scale = 0.25, rope_theta = 10000.0, rope_rotary_dim = 16', d: 16, dv: 16, bias: false },
  { name: 'causal, interleaved partial RoPE, value width 12', attrs: 'causal = true, scale = 0.25, rope_theta = 500.0, rope_rotary_dim = 8, rope_interleaved = true', d: 16, dv: 12, bias: false },
  { name: 'bidirectional with a bias', attrs: 'causal = false, scale = 1.0', d: 8, dv: 8, bias: true },
];

describe.each(cases)('$name', ({ attrs, d, dv, bias }) => {
  const g = parseGraph(`graph attn {
  input %q: f32[batch, seq, 4, ${d}]
  input %k: f32[batch, seq, 2, ${d}]
  input %v: f32[batch, seq, 2, ${dv}]
  ${bias ? 'input %bias: f32[1, 4, seq, seq]' : ''}
  %0 = attention(%q, %k, %v${bias ? ', %bias' : ''}) {${attrs}} : f32[batch, seq, 4, ${dv}]
  output y = %0
}`);
  const program = scheduleGraph(g);
  it.each([[1, 7], [2, 200], [1, 130]])('batch %i, %i tokens, 1 and 2 threads', (batch, seq) => {
    const rand = mulberry32(seq);
    const r = (n: number) => Float32Array.from({ length: n }, () => rand() * 2 - 1);
    const inputs: Record<string, Float32Array> = { q: r(batch * seq * 4 * d), k: r(batch * seq * 2 * d), v: r(batch * seq * 2 * dv) };
    if (bias) inputs.bias = r(4 * seq * seq);
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
