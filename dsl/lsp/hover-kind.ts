// Hover over a component kind (`moe`, `attention`, …): what it is and its fields.
import { kinds } from '../../compiler/spec/schema.ts';

export function kindHover(kind: string): string | undefined {
  const k = kinds[kind];
  if (!k) return `unknown component kind \`${kind}\`; the kinds are: ${Object.keys(kinds).join(', ')}`;
  const fields = Object.keys(k.fields);
  return `**${kind}** (${k.role})\n\n${k.doc}${fields.length ? `\n\nFields: ${fields.map((f) => `\`${f}\``).join(', ')}` : ''}`;
}
