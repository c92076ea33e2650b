// The WGSL target's tiled matmul against the kernel interpreter's loop nests on shapes off every tile edge: rows
// past one 128-row tile, widths short of a tile, inner dimensions not a multiple of the K step, empty experts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProgram } from '../../compiler/kernel/interpret.ts';
import { planMemory } from '../../compiler/kernel/memory-plan.ts';
import { scheduleGraph } from '../../compiler/kernel/schedule.ts';
import { renderProgram } from '../../targets/wgsl/render.ts';
import { openDevice, type GpuDevice } from '../../runtime/webgpu/device.ts';
import { WebGpuProgram } from '../../runtime/webgpu/run.ts';
import { relativeL2 } from '../helpers/compare.ts';
import { productsGraph, random } from '../helpers/products.ts';

const cases = [[7, 24, 3], [101, 72, 37], [130, 64, 80], [300, 40, 20]].map(([rows, N, K]) => {
  const g = productsGraph(N!, K!);
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
    expect(relativeL2(got.plain!, c.want.plain!)).toBeLessThan(1e-5);
  });
});
