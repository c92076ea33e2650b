// One measurement of the wasm benchmark, in a process of its own (onnxruntime-web fixes its thread count per process,
// and a fresh process keeps one engine's memory out of the other's timings). Prints one JSON line.
//
//   node --import tsx bench/wasm/child.ts --engine moec|ort --model fixture|large --threads N --reps R
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { importHf } from '../../compiler/import/hf/index.ts';
import { openSafetensors } from '../../runtime/safetensors/index.ts';
import { checkLargeLogits, ensureLargeModel, largeInputIds, largeModelFiles } from '../onnx/large-model.ts';
import { ortSession, relL2 } from '../onnx/ort.ts';
import { loadMoec } from './moec-model.ts';
import { cacheDir, fixtureDir, fixtureOnnx, type Measurement } from './models.ts';

const { values } = parseArgs({ options: { engine: { type: 'string' }, model: { type: 'string' }, threads: { type: 'string', default: '1' }, reps: { type: 'string', default: '5' } } });
const threads = Number(values.threads);
const reps = Number(values.reps);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Token ids and the logits to check against: the fixture's HF reference, or torch's summary of the large model. */
function workload(): { ids: Int32Array; shape: [number, number]; check: (logits: Float32Array) => Measurement['check'] } {
  if (values.model === 'fixture') {
    const rows: number[][] = JSON.parse(readFileSync(`${fixtureDir}/inputs.json`, 'utf8')).input_ids;
    const ref = openSafetensors(`${fixtureDir}/reference.safetensors`);
    const want = ref.readF32('logits');
    ref.close();
    return { ids: Int32Array.from(rows.flat()), shape: [rows.length, rows[0]!.length], check: (l) => ({ relL2: relL2(l, want) }) };
  }
  ensureLargeModel(cacheDir);
  const ids = largeInputIds();
  return { ids, shape: [1, ids.length], check: (l) => { const c = checkLargeLogits(l); return { relL2: c.relL2Rows, argmaxMatches: c.argmaxMatches, tokens: c.tokens }; } };
}

async function measure(): Promise<Measurement> {
  const w = workload();
  const tokens = w.shape[0] * w.shape[1];
  const times: number[] = [];
  let loadMs: number;
  let first: { logits: Float32Array; ms: number };
  let profile: Record<string, number> | undefined;
  let timed: () => Promise<number>;
  let close: () => Promise<void>;
  if (values.engine === 'moec') {
    mkdirSync(cacheDir, { recursive: true });
    const spec = `${cacheDir}/${values.model}.moe`;
    writeFileSync(spec, importHf(values.model === 'fixture' ? fixtureDir : largeModelFiles(cacheDir).dir).text);
    const weights = values.model === 'fixture' ? `${fixtureDir}/model.safetensors` : largeModelFiles(cacheDir).safetensors;
    const t0 = performance.now();
    const m = loadMoec(spec, weights, threads, w.shape[0]);
    loadMs = performance.now() - t0;
    const f = m.forward(w.ids);
    first = { logits: f.outputs.logits as Float32Array, ms: f.ms };
    timed = async () => m.forward(w.ids).ms;
    close = async () => {
      const byOp: Record<string, number> = {};
      m.forward(w.ids, (_k, ops, ms) => (byOp[ops.join('+')] = (byOp[ops.join('+')] ?? 0) + ms));
      profile = byOp;
      m.close();
    };
  } else {
    const f = values.model === 'fixture' ? { onnx: fixtureOnnx } : largeModelFiles(cacheDir);
    const large = values.model === 'large' ? largeModelFiles(cacheDir) : undefined;
    const t0 = performance.now();
    const s = await ortSession(f.onnx, large ? { threads, externalDataPath: large.onnxData, externalDataLocation: large.onnxDataLocation } : { threads });
    loadMs = performance.now() - t0;
    const r = await s.run(w.ids, w.shape);
    first = { logits: r.logits, ms: r.ms };
    timed = async () => (await s.run(w.ids, w.shape)).ms;
    close = () => s.release();
  }
  for (let r = 0; r < reps; r++) times.push(await timed());
  await close();
  const ms = median(times);
  return { engine: values.engine!, model: values.model!, threads, tokens, loadMs, firstMs: first.ms, ms: times, medianMs: ms, tokensPerSecond: tokens / (ms / 1000), check: w.check(first.logits), maxRssMiB: process.resourceUsage().maxRSS / 1024, ...(profile ? { profile } : {}) };
}

console.log(JSON.stringify(await measure()));
process.exit(0);
