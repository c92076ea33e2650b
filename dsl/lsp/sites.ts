// What stands at each place of a module that an editor asks about: declared names, references to names, field names
// (with the kind of the component they belong to), component kinds and import paths.
import type { Expr, Field, Module, Name } from '../ast.ts';
import type { Span } from '../source.ts';
import { kinds } from '../../compiler/spec/schema.ts';

export type Site =
  | { kind: 'declaration'; name: string; span: Span }
  | { kind: 'reference'; name: string; span: Span }
  | { kind: 'field'; key: string; owner?: string; span: Span }
  | { kind: 'kind'; name: string; span: Span }
  | { kind: 'import'; path: string; span: Span };

/** `kindOf` names the kind a declared name stands for (for fields of `{ … } extends base`). */
export function sitesOf(module: Module, kindOf: (name: string) => string | undefined): Site[] {
  const sites: Site[] = [];
  const name = (n: Name | undefined, kind: 'declaration' | 'reference') => {
    if (n?.name && n.span) sites.push({ kind, name: n.name, span: n.span });
  };
  const fields = (fs: readonly Field[] | undefined, owner: string | undefined) => {
    for (const f of fs ?? []) {
      if (!f?.key?.span) continue;
      sites.push({ kind: 'field', key: f.key.name, owner, span: f.key.span });
      expr(f.value, owner ? kindOfField(owner, f.key.name) : undefined);
    }
  };
  const expr = (e: Expr | undefined, expected: string | undefined): void => {
    if (!e?.span) return;
    switch (e.kind) {
      case 'name': name({ name: e.name, span: e.span }, 'reference'); break;
      case 'unary': expr(e.operand, undefined); break;
      case 'binary': expr(e.left, undefined); expr(e.right, undefined); break;
      case 'cond': expr(e.then, expected); expr(e.test, undefined); expr(e.otherwise, expected); break;
      case 'call': e.args.forEach((a) => expr(a, undefined)); break;
      case 'list': e.items.forEach((a) => expr(a, undefined)); break;
      case 'object': {
        if (e.type?.span) sites.push({ kind: 'kind', name: e.type.name, span: e.type.span });
        name(e.base, 'reference');
        fields(e.fields, e.type?.name ?? (e.base ? kindOf(e.base.name) : undefined) ?? expected);
        break;
      }
      default: break;
    }
  };
  for (const s of module.statements) {
    if (s.kind === 'import') sites.push({ kind: 'import', path: s.path, span: s.span });
    else if (s.kind === 'let') {
      name(s.name, 'declaration');
      expr(s.value, undefined);
    } else {
      if (s.type?.span) sites.push({ kind: 'kind', name: s.type.name, span: s.type.span });
      name(s.name, 'declaration');
      name(s.base, 'reference');
      fields(s.fields, s.type?.name);
    }
  }
  return sites;
}

/** The kind a field's value must be when the schema allows exactly one (`block:` of a stack is a block). */
export function kindOfField(owner: string, key: string): string | undefined {
  const type = kinds[owner]?.fields[key]?.type;
  if (!type) return undefined;
  const options = type.split('|').map((t) => t.trim()).filter((t) => t in kinds);
  return options.length === 1 ? options[0] : undefined;
}

/** The site under an offset; a cursor just after a name still counts as on it. */
export function siteAt(sites: readonly Site[], offset: number): Site | undefined {
  const on = sites.filter((s) => s.span.start <= offset && offset < s.span.end);
  const pick = on.length > 0 ? on : sites.filter((s) => s.span.end === offset && s.kind !== 'import');
  return pick.sort((a, b) => (a.span.end - a.span.start) - (b.span.end - b.span.start))[0];
}
