// onnxruntime-web (wasm, SIMD + threads) on the large Mixtral-shaped model: ms per forward at batch 1,
// seq 512, for each thread count in its own process (ORT fixes the thread count per process), and
// whether its logits match torch's on the device.
//
//   npx tsx bench/onnx/ort-large.ts [--threads 1,2] [--reps 5] [--dir bench/.cache/mixtral-d1024] [--json]
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { checkLargeLogits, DEFAULT_CACHE_DIR, ensureLargeModel, largeInputIds, largeModelFiles, SEQ, type LargeLogitsCheck } from './large-model.ts';
import { ortSession } from './ort.ts';

export interface OrtLargeResult {
  threads: number;
  createMs: number;
  firstMs: number;
  ms: number[];
  medianMs: number;
  tokensPerSecond: number;
  maxRssMiB: number;
  check: LargeLogitsCheck;
}

const { values } = parseArgs({
  options: {
    threads: { type: 'string', default: '1,2' },
    reps: { type: 'string', default: '5' },
    dir: { type: 'string', default: DEFAULT_CACHE_DIR },
    child: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function child(threads: number, reps: number, dir: string): Promise<OrtLargeResult> {
  const f = largeModelFiles(dir);
  const s = await ortSession(f.onnx, { threads, externalDataPath: f.onnxData, externalDataLocation: f.onnxDataLocation });
  const ids = largeInputIds();
  const first = await s.run(ids, [1, SEQ]);
  const check = checkLargeLogits(first.logits);
  const ms: number[] = [];
  for (let r = 0; r < reps; r++) ms.push((await s.run(ids, [1, SEQ])).ms);
  await s.release();
  const medianMs = median(ms);
  return {
    threads,
    createMs: s.createMs,
    firstMs: first.ms,
    ms,
    medianMs,
    tokensPerSecond: SEQ / (medianMs / 1000),
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
    check,
  };
}

if (values.child) {
  const r = await child(Number(values.threads), Number(values.reps), values.dir!);
  console.log(JSON.stringify(r));
  process.exit(0);
} else if (process.argv[1] && fileURLToPath(import.meta.url) === fs.realpathSync(process.argv[1])) {
  ensureLargeModel(values.dir);
  const results: OrtLargeResult[] = [];
  for (const t of values.threads!.split(',').map(Number)) {
    const p = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--child', '--threads', String(t), '--reps', values.reps!, '--dir', values.dir!], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 1 << 24,
    });
    const line = p.stdout.trim().split('\n').pop() ?? '';
    if (p.status !== 0 || !line.startsWith('{')) {
      console.error(`ORT with ${t} thread(s) failed (exit ${p.status}, signal ${p.signal}):\n${p.stdout}`);
      process.exitCode = 1;
      continue;
    }
    const r: OrtLargeResult = JSON.parse(line);
    results.push(r);
    if (!values.json) {
      const c = r.check;
      console.log(
        `onnxruntime-web ${t} thread(s), [1,${SEQ}]: ${r.medianMs.toFixed(0)} ms/forward median of ${r.ms.length} ` +
          `(${r.ms.map((x) => x.toFixed(0)).join(', ')}; first ${r.firstMs.toFixed(0)}), ${r.tokensPerSecond.toFixed(0)} tokens/s; ` +
          `session create ${(r.createMs / 1000).toFixed(1)} s, max RSS ${r.maxRssMiB.toFixed(0)} MiB; vs torch: rel L2 (tokens 0, 511) ${c.relL2Rows.toExponential(2)}, ` +
          `argmax ${c.argmaxMatches}/${c.tokens}, max row-norm rel diff ${c.maxRowNormRelDiff.toExponential(2)}`,
      );
    }
  }
  if (values.json) console.log(JSON.stringify(results));
}
