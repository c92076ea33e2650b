import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { componentReference } from '../../compiler/spec/reference.ts';

it('docs/language.md lists every component and field of the schema (run npm run docs after changing it)', () => {
  const doc = readFileSync(new URL('../../docs/language.md', import.meta.url), 'utf8');
  expect(doc).toContain(componentReference());
});
