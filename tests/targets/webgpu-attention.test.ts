// The WGSL target's fused attention (targets/wgsl/attention.ts) against the kernel interpreter's loop nest on the
// shared cases (GQA, RoPE, bias, causal, value width ≠ head width, several key tiles and query blocks), with the
// workgroup-memory row reductions and with subgroup reductions; plus head widths of 96 and 160 (two value columns
// per invocation, the smaller query block).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProgram } from '../../compiler/kernel/interpret.ts';
import { planMemory } from '../../compiler/kernel/memory-plan.ts';
import { scheduleGraph } from '../../compiler/kernel/schedule.ts';
import { renderProgram } from '../../targets/wgsl/render.ts';
import { openDevice, type GpuDevice } from '../../runtime/webgpu/device.ts';
import { WebGpuProgram } from '../../runtime/webgpu/run.ts';
import { relativeL2 } from '../helpers/compare.ts';
import { attentionCases, attentionGraph, attentionInputs, attentionSizes, type AttentionCase } from '../helpers/attention-cases.ts';

const wide: AttentionCase[] = [
  { name: 'causal, head 96, value 80, RoPE', attrs: 'causal = true, scale = 0.1, rope_theta = 10000.0, rope_rotary_dim = 96', d: 96, dv: 80, bias: false },
  { name: 'bidirectional, head 160, value 160', attrs: 'causal = false, scale = 0.08', d: 160, dv: 160, bias: false },
];

let gpu: GpuDevice;
beforeAll(async () => {
  gpu = await openDevice();
});
afterAll(() => gpu?.device.destroy());

describe.each([...attentionCases, ...wide])('$name', (c) => {
  const program = scheduleGraph(attentionGraph(c));
  // (The wide heads at 70 tokens only: two key tiles and several query blocks, at lavapipe's speed.)
  const sizes: [number, number][] = c.d > 16 ? [[1, 70]] : attentionSizes;
  it.each(sizes)('batch %i, %i tokens, with and without subgroups', async (batch, seq) => {
    const inputs = attentionInputs(c, batch, seq);
    const want = runProgram(program, { params: () => new Float32Array(0), inputs, sizes: { batch, seq } });
    for (const features of [[], ['subgroups']]) {
      const wgsl = renderProgram(program, { features });
      expect(wgsl.kernels[0]!.code).toContain('as one fused kernel');
      const p = await WebGpuProgram.create(gpu, program, planMemory(program), wgsl);
      const got = await p.run({ params: () => new Float32Array(0), inputs, sizes: { batch, seq } });
      p.destroy();
      expect(relativeL2(got.y!, want.y!), features.join() || 'plain').toBeLessThan(1e-5);
    }
  });
});
