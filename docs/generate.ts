// npm run docs: regenerates the generated sections of docs/ from the tables they describe.
import { readFileSync, writeFileSync } from 'node:fs';
import { OPS_BEGIN, OPS_END, opReference } from '../compiler/ir/reference.ts';
import { REFERENCE_BEGIN, REFERENCE_END, componentReference } from '../compiler/spec/reference.ts';

export function replaceSection(doc: string, begin: string, end: string, body: string): string {
  const a = doc.indexOf(begin);
  const b = doc.indexOf(end);
  if (a < 0 || b < 0) throw new Error(`markers ${begin} … ${end} not found`);
  return doc.slice(0, a) + body + doc.slice(b + end.length);
}

const update = (file: string, begin: string, end: string, body: string) => {
  const path = new URL(file, import.meta.url);
  writeFileSync(path, replaceSection(readFileSync(path, 'utf8'), begin, end, body));
};

update('language.md', REFERENCE_BEGIN, REFERENCE_END, componentReference());
update('ir.md', OPS_BEGIN, OPS_END, opReference());
