// The names a program declares, resolved as the checker resolves them (compiler/spec/check.ts): the first definition
// of a name wins, except that a `param` redeclared by a file that imports it takes the importer's value.
import type { Definition, Let, Module } from '../ast.ts';
import type { Span } from '../source.ts';
import { LAYER_NAME, LAYERS_NAME } from '../../compiler/spec/evaluate.ts';
import { kinds } from '../../compiler/spec/schema.ts';
import type { Binding, Scope } from '../../compiler/spec/values.ts';

export interface Declaration {
  name: string;
  /** The span of the declared name. */
  span: Span;
  statement: Let | Definition;
}

export interface ProgramScope {
  /** Every declaration of each name, in the order the checker meets them (imports first). */
  declarations: Map<string, Declaration[]>;
  /** What expressions evaluate against (compiler/spec/evaluate.ts). */
  scope: Scope;
  /** The declaration whose value a name has (for an overridden param: the one that gives the value). */
  effective: Map<string, Declaration>;
}

export function buildScope(modules: readonly Module[]): ProgramScope {
  const declarations = new Map<string, Declaration[]>();
  const effective = new Map<string, Declaration>();
  const scope: Scope = { bindings: new Map() };
  for (const mod of modules) {
    for (const s of mod.statements) {
      if (s.kind === 'import' || !s.name?.name) continue;
      const decl: Declaration = { name: s.name.name, span: s.name.span, statement: s };
      declarations.set(decl.name, [...(declarations.get(decl.name) ?? []), decl]);
      if (decl.name === LAYER_NAME || decl.name === LAYERS_NAME) continue;
      const prev = scope.bindings.get(decl.name);
      if (prev) {
        if (prev.overridable && s.kind === 'let' && s.overridable && prev.span.file !== mod.file) {
          prev.expr = s.value;
          effective.set(decl.name, decl);
        }
        continue;
      }
      if (s.kind === 'def' && !(s.type.name in kinds)) continue;
      const expr = s.kind === 'let' ? s.value : { kind: 'object' as const, type: s.type, base: s.base, fields: s.fields, span: s.span };
      const binding: Binding = { name: decl.name, span: decl.span, expr, overridable: s.kind === 'let' && s.overridable, cache: new Map(), evaluating: false };
      scope.bindings.set(decl.name, binding);
      effective.set(decl.name, decl);
    }
  }
  return { declarations, scope, effective };
}

/** The component kind a name stands for: `moe x { … }`, `let x = moe { … }` or `let y = x`, through `extends`. */
export function kindOfName(ps: ProgramScope, name: string, seen = new Set<string>()): string | undefined {
  if (seen.has(name)) return undefined;
  seen.add(name);
  const decl = ps.effective.get(name);
  if (!decl) return undefined;
  const s = decl.statement;
  if (s.kind === 'def') return s.type.name;
  const v = s.value;
  if (v.kind === 'object') return v.type?.name ?? (v.base ? kindOfName(ps, v.base.name, seen) : undefined);
  if (v.kind === 'name') return kindOfName(ps, v.name, seen);
  return undefined;
}
