// The nightly fuzz run: npm run fuzz -- --runs N [--specs M] [--seed S] [--hang-ms T]
// N mutated examples and M random valid specs (default N / 10) in a worker thread; an input that runs longer than
// T ms (default 60000) is a hang: the worker is stopped and the input printed. Prints the inputs tried per property,
// every distinct failure with a minimal input, and the seed that reproduces the run. Exit status 1 on any failure.
import { Worker } from 'node:worker_threads';
import type { CampaignResult } from './campaign.ts';
import type { WorkerJob } from './worker.ts';

function option(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const v = Number(args[i + 1]);
  if (!Number.isInteger(v) || v < 0) throw new Error(`${name} takes a non-negative integer, got '${args[i + 1]}'`);
  return v;
}

function report(r: CampaignResult): void {
  console.log(`${r.property}: ${r.tried} inputs in ${(r.ms / 1000).toFixed(1)} s, ${r.failures.length} distinct failure${r.failures.length === 1 ? '' : 's'}`);
  for (const f of r.failures) {
    console.log(`\n  FAIL (${f.count}×) ${f.key}\n  ${f.violation.split('\n').slice(0, 8).join('\n  ')}\n  minimal input (checked as ${f.file}): ${JSON.stringify(f.input)}`);
  }
}

const args = process.argv.slice(2);
const runs = option(args, '--runs', 2000);
const job: WorkerJob = { mutations: runs, specs: option(args, '--specs', Math.ceil(runs / 10)), seed: option(args, '--seed', Date.now() % 2 ** 31) };
const hangMs = option(args, '--hang-ms', 60_000);
console.log(`moec fuzz: seed ${job.seed}, ${job.specs} valid specs, ${job.mutations} mutated examples (reproduce: npm run fuzz -- --runs ${job.mutations} --specs ${job.specs} --seed ${job.seed})`);

// The worker is TypeScript: a two-line script registers tsx in its thread, as bin/moec.js does, then imports it.
const entry = new URL('./worker.ts', import.meta.url).href;
const boot = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(entry)}); });`;
const worker = new Worker(boot, { eval: true, workerData: job });
let current: { property: string; index: number; file: string; text: string } | undefined;
let lastInputAt = Date.now();
let failed = 0;
const watchdog = setInterval(() => {
  if (!current || Date.now() - lastInputAt < hangMs) return;
  console.log(`\nHANG: ${current.property}, input ${current.index} (checked as ${current.file}) ran over ${hangMs} ms:\n${JSON.stringify(current.text)}`);
  failed++;
  void worker.terminate();
}, 1000);
worker.on('message', (m: { kind: string; result?: CampaignResult; property?: string; index?: number; file?: string; text?: string }) => {
  if (m.kind === 'input') {
    current = { property: m.property!, index: m.index!, file: m.file!, text: m.text! };
    lastInputAt = Date.now();
  } else if (m.kind === 'result') {
    report(m.result!);
    failed += m.result!.failures.length;
  }
});
worker.on('error', (e) => {
  console.log(`\nthe fuzz worker died: ${e.stack ?? e.message}${current ? `\nlast input (${current.property}, checked as ${current.file}): ${JSON.stringify(current.text)}` : ''}`);
  failed++;
});
worker.on('exit', () => {
  clearInterval(watchdog);
  console.log(`\n${failed === 0 ? 'no failures' : `${failed} failure${failed === 1 ? '' : 's'}`} (seed ${job.seed})`);
  process.exitCode = failed === 0 ? 0 : 1;
});
