// Differential fuzzing of the compiled targets: `npm run fuzz:diff -- --runs N --seed S [--no-webgpu] [--no-fusion]`
// runs N random models (tests/differential) op by op on the reference executor, wasm and WebGPU (where an adapter
// opens), with fusion on versus off and the memory plan checked; prints the totals and the shrunk failing spec.
import fc from 'fast-check';
import { differentialProperty, tryGpu, type Totals } from '../../tests/differential/property.ts';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const runs = arg('runs', 100);
const seed = arg('seed', Date.now() % 100000);
const gpu = process.argv.includes('--no-webgpu') ? undefined : await tryGpu();
const totals: Totals = { models: 0, compared: {}, ties: 0 };
const t0 = performance.now();
console.log(`differential fuzzing: ${runs} models, seed ${seed}, targets wasm${gpu ? `, webgpu (${gpu.adapter})` : ''}`);
const progress = setInterval(() => console.log(`… ${totals.models} model runs, ${((performance.now() - t0) / 1000).toFixed(0)} s`), 30_000);
progress.unref();
const result = await fc.check(differentialProperty({ gpu, fusion: !process.argv.includes('--no-fusion') }, totals), { numRuns: runs, seed, endOnFailure: false });
const seconds = ((performance.now() - t0) / 1000).toFixed(0);
console.log(`${totals.models} model runs (including shrinking) in ${seconds} s; values compared: ${Object.entries(totals.compared).map(([k, n]) => `${k} ${n}`).join(', ')}; stopped at near ties: ${totals.ties}`);
if (result.failed) {
  console.log(fc.defaultReportMessage(result));
  process.exitCode = 1;
} else console.log(`ok: ${result.numRuns} random models agree (seed ${seed})`);
gpu?.device.destroy();
