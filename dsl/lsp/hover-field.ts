// Hover over a field name: its type, default and documentation from the schema (compiler/spec/schema.ts).
import { kinds } from '../../compiler/spec/schema.ts';

export function fieldHover(key: string, owner: string | undefined): string | undefined {
  const owners = owner && kinds[owner]?.fields[key] ? [owner] : Object.keys(kinds).filter((k) => kinds[k]!.fields[key]);
  if (owners.length === 0) return owner && kinds[owner] ? `\`${owner}\` has no field \`${key}\`; its fields are: ${Object.keys(kinds[owner]!.fields).join(', ')}` : undefined;
  return owners.map((k) => {
    const f = kinds[k]!.fields[key]!;
    const dflt = f.required ? 'required' : f.default !== undefined ? `default \`${f.default}\`` : 'optional';
    return `**${k}.${key}**: \`${f.type}\` (${dflt})\n\n${f.doc}`;
  }).join('\n\n---\n\n');
}
