// The WGSL target's tiled matmul against the kernel interpreter's loop nests on shapes off every tile edge: rows
// past one 64-row tile, widths off the 64-column tile, inner dimensions not a multiple of 16, empty experts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseGraph } from '../../compiler/ir/parse.ts';
import { mulberry32 } from '../../compiler/ir/hash.ts';
import { runProgram } from '../../compiler/kernel/interpret.ts';
import { planMemory } from '../../compiler/kernel/memory-plan.ts';
import { scheduleGraph } from '../../compiler/kernel/schedule.ts';
import { renderProgram } from '../../targets/wgsl/render.ts';
import { openDevice, type GpuDevice } from '../../runtime/webgpu/device.ts';
import { WebGpuProgram } from '../../runtime/webgpu/run.ts';
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
  output y = %2
  output experts = %3
}`);

const random = (n: number, seed: number) => {
  const rand = mulberry32(seed);
  return Float32Array.from({ length: n }, () => rand() - 0.5);
};

const cases = [[7, 24, 3], [101, 72, 37], [130, 64, 80]].map(([rows, N, K]) => {
  const g = graph(N!, K!);
  const program = scheduleGraph(g);
  const params = new Map(g.params.map((p, s) => [p.name, random(p.type.shape.reduce<number>((a, d) => a * Number(d), 1), s + 1)]));
  const third = Math.floor(rows! / 3);
  const inputs = { x: random(rows! * K!, 99), offsets: Int32Array.from([0, third, third, rows!]) };
  return { rows: rows!, N: N!, K: K!, program, params, inputs, want: runProgram(program, { params: (n) => params.get(n)!, inputs, sizes: { rows: rows! } }) };
});

let gpu: GpuDevice;
beforeAll(async () => {
  gpu = await openDevice();
});
afterAll(() => gpu?.device.destroy());

describe.each(cases)('rows $rows, width $N, inner $K', (c) => {
  it('the tiled matmul gives the loop nests\' outputs', async () => {
    const p = await WebGpuProgram.create(gpu, c.program, planMemory(c.program), renderProgram(c.program));
    const got = await p.run({ params: (n) => c.params.get(n)!, inputs: c.inputs, sizes: { rows: c.rows } });
    p.destroy();
    expect(relativeL2(got.y!, c.want.y!)).toBeLessThan(1e-5);
    expect(relativeL2(got.experts!, c.want.experts!)).toBeLessThan(1e-5);
  });
});
