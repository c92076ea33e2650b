// Golden tests of each pass, MLIR style: tests/passes/<pass>/<case>.in.ir run through the pass must print as
// <case>.out.ir, and both must pass the verifier.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseGraph } from '../../compiler/ir/parse.ts';
import { printGraph } from '../../compiler/ir/print.ts';
import { verifyGraph } from '../../compiler/ir/verify.ts';
import { graphPasses } from '../../compiler/passes/pipeline.ts';

const root = new URL('.', import.meta.url).pathname;

for (const pass of graphPasses) {
  describe(pass.name, () => {
    const dir = join(root, pass.name);
    const cases = readdirSync(dir).filter((f) => f.endsWith('.in.ir'));
    it('has golden cases', () => expect(cases.length).toBeGreaterThan(0));
    for (const file of cases) {
      it(file.replace('.in.ir', ''), () => {
        const input = parseGraph(readFileSync(join(dir, file), 'utf8'), file);
        const expected = readFileSync(join(dir, file.replace('.in.ir', '.out.ir')), 'utf8');
        const out = pass.run(input);
        expect(verifyGraph(out)).toEqual([]);
        expect(printGraph(out)).toBe(printGraph(parseGraph(expected)));
      });
    }
  });
}
