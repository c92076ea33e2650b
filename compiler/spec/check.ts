// The checker: a loaded program (a file and its imports) to the checked model, or diagnostics.
import type { Expr } from '../../dsl/ast.ts';
import { error, hasErrors, type Diagnostic } from '../../dsl/diagnostics.ts';
import type { LoadedProgram } from '../../dsl/load.ts';
import { parseModule } from '../../dsl/parse.ts';
import { spanAt, type Span } from '../../dsl/source.ts';
import { buildModel } from './build.ts';
import { evaluate, LAYER_NAME, LAYERS_NAME } from './evaluate.ts';
import { kinds } from './schema.ts';
import type { ModelSpec } from './types.ts';
import { EvalError, type Binding, type Scope } from './values.ts';

export interface CheckOptions {
  /** Which `model` definition to check; default: the last one in the root file. */
  model?: string;
  /** Values for `param` constants, as expression text: { granularity: "4" }. */
  set?: Record<string, string>;
}

export interface CheckResult {
  model?: ModelSpec;
  diagnostics: Diagnostic[];
}

const reserved = new Set([LAYER_NAME, LAYERS_NAME]);

export function checkProgram(program: LoadedProgram, options: CheckOptions = {}): CheckResult {
  const diagnostics = [...program.diagnostics];
  if (hasErrors(diagnostics)) return { diagnostics };

  const scope: Scope = { bindings: new Map() };
  const models: { name: string; span: Span; file: string }[] = [];
  for (const mod of program.modules) {
    for (const s of mod.statements) {
      if (s.kind === 'import') continue;
      const name = s.name;
      if (reserved.has(name.name)) {
        diagnostics.push(error(`'${name.name}' is reserved: it names the layer index inside a stack`, name.span));
        continue;
      }
      const prev = scope.bindings.get(name.name);
      // A family file declares `param experts = 8`; a file importing it may give the param another value.
      if (prev && prev.overridable && s.kind === 'let' && s.overridable && prev.span.file !== mod.file) {
        prev.expr = s.value;
        continue;
      }
      if (prev) {
        diagnostics.push(error(`duplicate definition of '${name.name}'`, name.span, `first defined at ${prev.span.file}:${prev.span.line}:${prev.span.col}`));
        continue;
      }
      let expr: Expr = s.kind === 'let' ? s.value : { kind: 'none', span: s.span };
      if (s.kind === 'def') {
        if (!(s.type.name in kinds)) {
          diagnostics.push(error(`unknown component kind '${s.type.name}'`, s.type.span, `the kinds are: ${Object.keys(kinds).join(', ')}`));
          continue;
        }
        expr = { kind: 'object', type: s.type, base: s.base, fields: s.fields, span: s.span };
        if (s.type.name === 'model') models.push({ name: name.name, span: name.span, file: mod.file });
      }
      const binding: Binding = { name: name.name, span: name.span, expr, overridable: s.kind === 'let' && s.overridable, cache: new Map(), evaluating: false };
      scope.bindings.set(name.name, binding);
    }
  }

  for (const [name, text] of Object.entries(options.set ?? {})) {
    const b = scope.bindings.get(name);
    if (!b) {
      diagnostics.push(error(`--set ${name}: the spec has no param named '${name}'`));
      continue;
    }
    if (!b.overridable) {
      diagnostics.push(error(`--set ${name}: '${name}' is not a param`, b.span, `declare it with 'param ${name} = …' to let users set it`));
      continue;
    }
    const parsed = parseModule(`let _ = ${text}`, `--set ${name}`);
    const stmt = parsed.module.statements[0];
    if (parsed.diagnostics.length > 0 || !stmt || stmt.kind !== 'let') {
      diagnostics.push(error(`--set ${name}=${text}: not a valid expression`));
      continue;
    }
    b.expr = stmt.value;
  }
  if (hasErrors(diagnostics)) return { diagnostics };

  // Constants are checked even when no model uses them, so a typo in an unused definition still surfaces.
  for (const b of scope.bindings.values()) {
    if (b.expr.kind === 'object') continue;
    try {
      evaluate(b.expr, scope, {});
    } catch (e) {
      if (!(e instanceof EvalError)) throw e;
      if (!/only defined inside a stack/.test(e.message)) diagnostics.push(error(e.message, e.span, e.hint));
    }
  }

  const rootModels = models.filter((m) => m.file === program.root);
  const candidates = rootModels.length > 0 ? rootModels : models;
  let chosen: (typeof models)[number] | undefined = candidates[candidates.length - 1];
  if (options.model) {
    chosen = models.find((m) => m.name === options.model);
    if (!chosen) {
      diagnostics.push(error(`no model named '${options.model}'`, undefined, models.length ? `the models are: ${models.map((m) => m.name).join(', ')}` : undefined));
      return { diagnostics };
    }
  }
  if (!chosen) {
    diagnostics.push(error(`${program.root} defines no model`, endOf(program, program.root), 'add a definition: model NAME { vocab: …, d_model: …, decoder: stack { … } }'));
    return { diagnostics };
  }
  const binding = scope.bindings.get(chosen.name)!;
  const value = evaluate(binding.expr, scope, {});
  if (value.t !== 'object') return { diagnostics };
  value.name = chosen.name;
  const model = buildModel(value, diagnostics);
  return { model: hasErrors(diagnostics) ? undefined : model, diagnostics };
}

/** The end of a file's last line: where a missing definition would go (undefined when the file was not read). */
function endOf(program: LoadedProgram, file: string): Span | undefined {
  const src = program.sources.get(file);
  if (!src) return undefined;
  const end = src.text.trimEnd().length;
  return spanAt(file, src.text, end, end);
}
