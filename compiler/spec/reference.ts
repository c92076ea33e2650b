// The component reference of docs/language.md, written from the schema so the two cannot drift apart.
import { kinds } from './schema.ts';

export const REFERENCE_BEGIN = '<!-- components: generated from compiler/spec/schema.ts by `npm run docs` -->';
export const REFERENCE_END = '<!-- end of components -->';

export function componentReference(): string {
  const roles = [...new Set(Object.values(kinds).map((k) => k.role))];
  const out: string[] = [REFERENCE_BEGIN, ''];
  for (const role of roles) {
    for (const [name, k] of Object.entries(kinds).filter(([, k]) => k.role === role)) {
      out.push(`### \`${name}\``, '', k.doc, '');
      if (Object.keys(k.fields).length === 0) {
        out.push('No fields: write `' + name + ' {}`.', '');
        continue;
      }
      out.push('| field | type | default | meaning |', '|---|---|---|---|');
      for (const [field, f] of Object.entries(k.fields)) {
        const dflt = f.required ? '*required*' : f.default !== undefined ? `\`${f.default}\`` : '';
        out.push(`| \`${field}\` | ${f.type.replace(/\|/g, '\\|')} | ${dflt.replace(/\|/g, '\\|')} | ${f.doc.replace(/\|/g, '\\|')} |`);
      }
      out.push('');
    }
  }
  out.push(REFERENCE_END);
  return out.join('\n');
}
