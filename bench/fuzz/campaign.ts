// The two fuzz campaigns of the nightly run, as loops over fast-check samples that count inputs and collect every
// distinct failure (by its first line) with a minimal input, instead of stopping at the first one.
import fc from 'fast-check';
import { compilerViolations } from '../../tests/fuzz/compiler-property.ts';
import type { Corpus } from '../../tests/fuzz/corpus.ts';
import { checkFrontEnd } from '../../tests/fuzz/front-end-property.ts';
import { minimizeText } from '../../tests/fuzz/minimize.ts';
import { mutatedInputArb, mutatedText } from '../../tests/fuzz/mutate.ts';
import { specArb } from '../../tests/fuzz/spec-arbitrary.ts';
import { printSpec } from '../../tests/fuzz/spec-print.ts';

export interface Failure {
  property: string;
  /** The first line of the violation, digits masked: failures with the same key are one bug. */
  key: string;
  violation: string;
  file: string;
  input: string;
  count: number;
}

export interface CampaignResult {
  property: string;
  tried: number;
  failures: Failure[];
  ms: number;
}

/** Called before each input, so that a watchdog can name the input a hang is stuck in. */
export type OnInput = (property: string, index: number, file: string, text: string) => void;

const keyOf = (violation: string) => violation.split('\n')[0]!.replace(/\d+/g, 'N').slice(0, 200);

function record(failures: Map<string, Failure>, property: string, file: string, text: string, violations: string[], minimize?: (t: string, key: string) => string): void {
  for (const violation of violations) {
    const key = keyOf(violation);
    const seen = failures.get(key);
    if (seen) {
      seen.count++;
      continue;
    }
    failures.set(key, { property, key, violation, file, input: minimize ? minimize(text, key) : text, count: 1 });
  }
}

/** Mutated examples through the front end; each new failure is shrunk to a minimal text that still fails the same way. */
export function mutationCampaign(corpus: Corpus, runs: number, seed: number, onInput: OnInput): CampaignResult {
  const property = 'mutated examples end in a model or in positioned diagnostics';
  const t0 = performance.now();
  const failures = new Map<string, Failure>();
  let tried = 0;
  for (const input of fc.sample(mutatedInputArb(corpus.files.length, corpus.vocab), { numRuns: runs, seed })) {
    const file = corpus.files[input.seed]!;
    const text = mutatedText(corpus.texts, input);
    onInput(property, tried, file, text);
    tried++;
    const { violations } = checkFrontEnd(file, text);
    if (violations.length === 0) continue;
    record(failures, property, file, text, violations, (t, key) =>
      minimizeText(t, (u) => checkFrontEnd(file, u).violations.some((v) => keyOf(v) === key), 2000));
  }
  return { property, tried, failures: [...failures.values()], ms: performance.now() - t0 };
}

/** Random valid specs through the front end, lowering, every pass with the verifier, and the IR round trips. */
export function specCampaign(runs: number, seed: number, onInput: OnInput): CampaignResult {
  const property = 'valid specs check, lower, verify after every pass and round-trip';
  const t0 = performance.now();
  const failures = new Map<string, Failure>();
  let tried = 0;
  for (const spec of fc.sample(specArb, { numRuns: runs, seed })) {
    const text = printSpec(spec);
    onInput(property, tried, 'generated.moe', text);
    tried++;
    const violations = [...checkFrontEnd('generated.moe', text).violations, ...compilerViolations('generated.moe', text, 'every-stage')];
    record(failures, property, 'generated.moe', text, violations);
  }
  return { property, tried, failures: [...failures.values()], ms: performance.now() - t0 };
}
