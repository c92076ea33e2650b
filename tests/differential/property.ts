// The differential property over random models and runs, for the CI test and for `npm run fuzz:diff`: every check
// of ./check-model.ts passes. A failure throws with the (shrunk) model's .moe text; totals are counted as it goes.
import fc from 'fast-check';
import type { GpuDevice } from '../../runtime/webgpu/device.ts';
import { modelData, runData } from './arbitrary.ts';
import { checkModel } from './check-model.ts';

export interface Totals {
  models: number;
  compared: Record<string, number>;
  ties: number;
}

export function differentialProperty(options: { gpu?: GpuDevice; fusion?: boolean }, totals: Totals = { models: 0, compared: {}, ties: 0 }) {
  return fc.asyncProperty(modelData, runData, async (model, run) => {
    const report = await checkModel(model, run, options);
    totals.models++;
    for (const [k, n] of Object.entries(report.compared)) totals.compared[k] = (totals.compared[k] ?? 0) + n;
    totals.ties += report.ties.length;
    if (report.failures.length) throw new Error(report.failures.join('\n\n'));
  });
}

/** The device the WebGPU tests use, or undefined where there is no adapter (the target is then skipped). */
export async function tryGpu(): Promise<GpuDevice | undefined> {
  try {
    const { openDevice } = await import('../../runtime/webgpu/device.ts');
    return await openDevice();
  } catch {
    return undefined;
  }
}
