// Checks that onnxruntime-web (wasm) on bench/models/mixtral-fixture.onnx reproduces the HF reference logits
// of ../shared/fixtures/hf/mixtral (relative L2 below 1e-4, same argmax everywhere).
//
//   npx tsx bench/onnx/check-fixture.ts [--threads N] [--fixture DIR] [--model FILE]
import * as fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openSafetensors } from '../../runtime/safetensors/index.ts';
import { ortSession, relL2 } from './ort.ts';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const { values } = parseArgs({
  options: {
    threads: { type: 'string', default: '1' },
    fixture: { type: 'string', default: here('../../../shared/fixtures/hf/mixtral') },
    model: { type: 'string', default: here('../models/mixtral-fixture.onnx') },
  },
});

export interface FixtureCheck {
  relL2: number;
  maxAbsDiff: number;
  argmaxMatches: number;
  tokens: number;
  ms: number;
}

export async function checkFixture(model: string, fixtureDir: string, threads: number): Promise<FixtureCheck> {
  const ids: number[][] = JSON.parse(fs.readFileSync(`${fixtureDir}/inputs.json`, 'utf8')).input_ids;
  const shape = [ids.length, ids[0]!.length];
  const ref = openSafetensors(`${fixtureDir}/reference.safetensors`);
  const want = ref.readF32('logits');
  ref.close();
  const s = await ortSession(model, { threads });
  const { logits, dims, ms } = await s.run(ids.flat(), shape);
  await s.release();
  const vocab = dims[dims.length - 1]!;
  let maxAbsDiff = 0;
  for (let i = 0; i < want.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(logits[i]! - want[i]!));
  let argmaxMatches = 0;
  const tokens = want.length / vocab;
  for (let t = 0; t < tokens; t++) if (argmax(logits, t * vocab, vocab) === argmax(want, t * vocab, vocab)) argmaxMatches++;
  return { relL2: relL2(logits, want), maxAbsDiff, argmaxMatches, tokens, ms };
}

export function argmax(a: ArrayLike<number>, offset: number, n: number): number {
  let best = 0;
  for (let j = 1; j < n; j++) if (a[offset + j]! > a[offset + best]!) best = j;
  return best;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === fs.realpathSync(process.argv[1])) {
  const r = await checkFixture(values.model!, values.fixture!, Number(values.threads));
  const ok = r.relL2 < 1e-4 && r.argmaxMatches === r.tokens;
  console.log(
    `onnxruntime-web ${values.threads} thread(s) on ${values.model}: rel L2 vs reference.safetensors logits ${r.relL2.toExponential(3)}, ` +
      `max |diff| ${r.maxAbsDiff.toExponential(3)}, argmax equal on ${r.argmaxMatches}/${r.tokens} tokens, run ${r.ms.toFixed(1)} ms: ${ok ? 'OK' : 'FAIL'}`,
  );
  process.exit(ok ? 0 : 1);
}
