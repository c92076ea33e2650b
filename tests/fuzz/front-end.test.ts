// The fixed-seed fuzz run of CI (the nightly run is `npm run fuzz`, bench/fuzz/run.ts): random valid specs check,
// lower, pass the verifier after every pass and round-trip; mutated examples end in a model or in diagnostics with
// file:line:col, within the deadline, never in an exception; and the CLI prints no stack trace for them.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compilerViolations } from './compiler-property.ts';
import { loadCorpus } from './corpus.ts';
import { checkFrontEnd } from './front-end-property.ts';
import { mutatedInputArb, mutatedText } from './mutate.ts';
import { specArb } from './spec-arbitrary.ts';
import { printSpec } from './spec-print.ts';

const CI_SEED = 20_240_611;
const corpus = loadCorpus();

/** fast-check properties that fail by throwing, so the report carries the violations and the shrunk input. */
const holds = (violations: string[]): void => {
  if (violations.length > 0) throw new Error(violations.join('\n'));
};

describe('front-end fuzzing (fixed seed)', () => {
  it('200 random valid specs check, lower, verify after every pass and round-trip through text and JSON', () => {
    fc.assert(fc.property(specArb, (spec) => {
      const text = printSpec(spec);
      holds(checkFrontEnd('generated.moe', text).violations);
      holds(compilerViolations('generated.moe', text, 'ends'));
    }), { seed: CI_SEED, numRuns: 200 });
  });

  it('400 token- and byte-level mutations of the examples end in a model or in diagnostics with positions', () => {
    fc.assert(fc.property(mutatedInputArb(corpus.files.length, corpus.vocab), (input) => {
      holds(checkFrontEnd(corpus.files[input.seed]!, mutatedText(corpus.texts, input)).violations);
    }), { seed: CI_SEED, numRuns: 400 });
  });

  it('moec check prints diagnostics, never a stack trace, for mutated examples', () => {
    // Examples without imports, so that a copy in a temporary folder checks the same.
    const standalone = corpus.files.map((_, i) => i).filter((i) => !/^\s*import\b/m.test(corpus.texts[i]!));
    const dir = mkdtempSync(join(tmpdir(), 'moec-fuzz-cli-'));
    const inputs = fc.sample(mutatedInputArb(standalone.length, corpus.vocab), { seed: CI_SEED, numRuns: 12 });
    const files = inputs.map((input, i) => {
      const file = join(dir, `mutant-${i}.moe`);
      writeFileSync(file, mutatedText(standalone.map((j) => corpus.texts[j]!), input));
      return file;
    });
    const r = spawnSync(process.execPath, ['bin/moec.js', 'check', ...files], { encoding: 'utf8', env: { ...process.env, MOEC_DEBUG: '' } });
    expect(r.status === 0 || r.status === 1, `exit ${r.status}\n${r.stderr}`).toBe(true);
    expect(r.stderr).not.toMatch(/internal error|^\s+at .+:\d+:\d+\)?$/m);
    // Every file ended one way or the other: an ok line, or a diagnostic that names it.
    for (const f of files) expect(r.stdout.includes(`ok ${f}`) || r.stderr.includes(`${f}:`), f).toBe(true);
  });
});
