// npm run docs: regenerates the component reference in docs/language.md from the schema.
import { readFileSync, writeFileSync } from 'node:fs';
import { withReference } from '../compiler/spec/reference.ts';

const path = new URL('../docs/language.md', import.meta.url);
writeFileSync(path, withReference(readFileSync(path, 'utf8')));
