import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { opReference } from '../../compiler/ir/reference.ts';
import { componentReference } from '../../compiler/spec/reference.ts';

const doc = (name: string) => readFileSync(new URL(`../../docs/${name}`, import.meta.url), 'utf8');

it('docs/language.md lists every component and field of the schema (npm run docs regenerates it)', () => {
  expect(doc('language.md')).toContain(componentReference());
});

it('docs/ir.md lists every op of the op table (npm run docs regenerates it)', () => {
  expect(doc('ir.md')).toContain(opReference());
});
