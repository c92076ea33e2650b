// npm run bench:wasm: moec's WebAssembly target against onnxruntime-web's wasm backend on this machine, the same
// model, inputs and thread count, each measurement in a process of its own. Prints tokens/s and the ratio, the
// grouped expert matmul's GFLOP/s against the measured wasm SIMD peak, and writes bench/results/wasm.{md,json}.
//
//   npm run bench:wasm [-- --threads 1,2 --models fixture,large --reps-fixture 200 --reps-large 5] [--json] [--quiet]
// --json prints the JSON (what bench/results/wasm.json holds) on stdout instead of the markdown; --quiet: no progress bar.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ensureLargeModel } from '../onnx/large-model.ts';
import { cacheDir, type Measurement } from './models.ts';
import { measurePeak } from './peak.ts';
import { benchSteps } from '../steps.ts';

const { values } = parseArgs({
  options: {
    threads: { type: 'string', default: '1,2' },
    models: { type: 'string', default: 'fixture,large' },
    'reps-fixture': { type: 'string', default: '200' },
    'reps-large': { type: 'string', default: '5' },
    json: { type: 'boolean', default: false },
    quiet: { type: 'boolean', default: false },
  },
});
const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const threadCounts = values.threads!.split(',').map(Number);
const models = values.models!.split(',');

function child(engine: string, model: string, threads: number): Measurement {
  const reps = model === 'fixture' ? values['reps-fixture']! : values['reps-large']!;
  const p = spawnSync(process.execPath, ['--import', 'tsx', here('child.ts'), '--engine', engine, '--model', model, '--threads', String(threads), '--reps', reps], {
    encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26,
  });
  const line = p.stdout.trim().split('\n').pop() ?? '';
  if (p.status !== 0 || !line.startsWith('{')) throw new Error(`${engine} on ${model} with ${threads} thread(s) failed (exit ${p.status}):\n${p.stdout}`);
  return JSON.parse(line) as Measurement;
}

if (models.includes('large')) ensureLargeModel(cacheDir);
const results: Measurement[] = [];
const steps = benchSteps(models.length * threadCounts.length * 2, values);
for (const model of models)
  for (const threads of threadCounts)
    for (const engine of ['moec', 'ort']) {
      steps.start(`${engine} ${model} ${threads} thread(s)`);
      const r = child(engine, model, threads);
      steps.clear();
      results.push(r);
      process.stderr.write(`${engine.padEnd(5)} ${model.padEnd(8)} ${threads} thread(s): ${r.medianMs.toFixed(2)} ms, ${r.tokensPerSecond.toFixed(1)} tokens/s\n`);
    }

const peak = measurePeak();
// The grouped expert matmuls of the large model: per layer, the gated up-projection (4·rows·I·D) and the down
// projection (2·rows·D·I), rows = tokens × top-k.
const config = JSON.parse(readFileSync(`${cacheDir}/config.json`, 'utf8'));
const groupedRows = 512 * config.num_experts_per_tok;
const flops = { gated_grouped_linear: 4 * groupedRows * config.intermediate_size * config.hidden_size * config.num_hidden_layers, grouped_linear: 2 * groupedRows * config.intermediate_size * config.hidden_size * config.num_hidden_layers };

const ortVersion = JSON.parse(readFileSync(here('../../node_modules/onnxruntime-web/package.json'), 'utf8')).version as string;
const machine = `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} logical cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; Node ${process.version} (V8 ${process.versions.v8}); onnxruntime-web ${ortVersion}`;
const lines = [`# moec wasm target against onnxruntime-web (wasm backend)`, '', `Run ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC by \`npm run bench:wasm\` on: ${machine}.`, ''];
lines.push('| model | threads | moec ms/forward | ORT ms/forward | moec tokens/s | ORT tokens/s | moec / ORT | moec logits vs reference | ORT logits vs reference |', '|---|---|---|---|---|---|---|---|---|');
const fmtCheck = (c: Measurement['check']) => `rel L2 ${c.relL2.toExponential(1)}${c.argmaxMatches !== undefined ? `, argmax ${c.argmaxMatches}/${c.tokens}` : ''}`;
for (const model of models)
  for (const threads of threadCounts) {
    const m = results.find((r) => r.engine === 'moec' && r.model === model && r.threads === threads)!;
    const o = results.find((r) => r.engine === 'ort' && r.model === model && r.threads === threads)!;
    lines.push(`| ${model} (${m.tokens} tokens) | ${threads} | ${m.medianMs.toFixed(2)} | ${o.medianMs.toFixed(2)} | ${m.tokensPerSecond.toFixed(1)} | ${o.tokensPerSecond.toFixed(1)} | ${(m.tokensPerSecond / o.tokensPerSecond).toFixed(2)}× | ${fmtCheck(m.check)} | ${fmtCheck(o.check)} |`);
  }
lines.push('', `Wasm SIMD peak of one core (register-only multiply-add chains): ${peak.fma !== undefined ? `relaxed FMA ${peak.fma.toFixed(1)} GFLOP/s, ` : ''}mul + add ${peak.mulAdd.toFixed(1)} GFLOP/s (each multiply-add depends on the last: a lower bound for mul + add).`, '');
const large = results.filter((r) => r.engine === 'moec' && r.model === 'large');
if (large.length) {
  lines.push('Grouped expert matmuls of the large model (moec, one profiled forward, epilogues included):', '', '| threads | kernel | GFLOP | ms | GFLOP/s | of the 1-core FMA peak × threads |', '|---|---|---|---|---|---|');
  for (const r of large)
    for (const [op, f] of Object.entries(flops)) {
      const ms = r.profile?.[op] ?? NaN;
      const rate = f / (ms / 1000) / 1e9;
      lines.push(`| ${r.threads} | ${op} | ${(f / 1e9).toFixed(1)} | ${ms.toFixed(0)} | ${rate.toFixed(1)} | ${((100 * rate) / ((peak.fma ?? peak.mulAdd) * r.threads)).toFixed(0)}% |`);
    }
  lines.push('', 'Where moec\'s time goes (ms per forward, large model, by kind of kernel):', '', `| kernel | ${large.map((r) => `${r.threads} thread(s)`).join(' | ')} |`, `|---|${large.map(() => '---|').join('')}`);
  const ops = Object.keys(large[0]!.profile ?? {}).sort((a, b) => large[0]!.profile![b]! - large[0]!.profile![a]!);
  for (const op of ops) lines.push(`| ${op} | ${large.map((r) => (r.profile?.[op] ?? 0).toFixed(1)).join(' | ')} |`);
}
const md = `${lines.join('\n')}\n`;
mkdirSync(here('../results'), { recursive: true });
writeFileSync(here('../results/wasm.md'), md);
writeFileSync(here('../results/wasm.json'), `${JSON.stringify({ machine, peak, results }, null, 1)}\n`);
process.stdout.write(values.json ? `${JSON.stringify({ machine, peak, results }, null, 2)}\n` : md);
