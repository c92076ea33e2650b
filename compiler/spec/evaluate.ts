// Evaluation of .moe expressions: arithmetic on dimensions, comparisons, conditionals and component objects.
import type { Expr } from '../../dsl/ast.ts';
import { EvalError, formatNumber, type EvalContext, type LazyField, type ObjectValue, type Scope, type Value } from './values.ts';

const functions: Record<string, { arity: [number, number]; fn: (...xs: number[]) => number }> = {
  ceil: { arity: [1, 1], fn: Math.ceil },
  floor: { arity: [1, 1], fn: Math.floor },
  round: { arity: [1, 1], fn: Math.round },
  abs: { arity: [1, 1], fn: Math.abs },
  sqrt: { arity: [1, 1], fn: Math.sqrt },
  log2: { arity: [1, 1], fn: Math.log2 },
  min: { arity: [1, 64], fn: Math.min },
  max: { arity: [1, 64], fn: Math.max },
};

export const LAYER_NAME = 'layer';
export const LAYERS_NAME = 'layers';

/** Names that read as enumeration symbols when a field expects one (e.g. `act: swiglu`). */
export interface SymbolMode {
  symbols: readonly string[];
}

export function evaluate(expr: Expr, scope: Scope, ctx: EvalContext, symbols?: SymbolMode): Value {
  switch (expr.kind) {
    case 'number': return { t: 'number', v: expr.value };
    case 'string': return { t: 'string', v: expr.value };
    case 'bool': return { t: 'bool', v: expr.value };
    case 'none': return { t: 'none' };
    case 'name': return lookup(expr.name, expr, scope, ctx, symbols);
    case 'list': return { t: 'list', items: expr.items.map((e) => evaluate(e, scope, ctx, symbols)) };
    case 'unary': {
      const v = evaluate(expr.operand, scope, ctx);
      if (expr.op === 'not') return { t: 'bool', v: !truthy(v, expr.operand) };
      return { t: 'number', v: -num(v, expr.operand) };
    }
    case 'cond': {
      const test = evaluate(expr.test, scope, ctx);
      return truthy(test, expr.test) ? evaluate(expr.then, scope, ctx, symbols) : evaluate(expr.otherwise, scope, ctx, symbols);
    }
    case 'call': {
      const f = functions[expr.callee];
      if (!f) {
        throw new EvalError(`unknown function '${expr.callee}'`, expr.span, `the functions are: ${Object.keys(functions).join(', ')}`);
      }
      const [lo, hi] = f.arity;
      if (expr.args.length < lo || expr.args.length > hi) {
        throw new EvalError(`${expr.callee}() takes ${lo === hi ? lo : `${lo} to ${hi}`} argument${hi === 1 ? '' : 's'}, got ${expr.args.length}`, expr.span);
      }
      const args = expr.args.map((a) => num(evaluate(a, scope, ctx), a));
      return { t: 'number', v: f.fn(...args) };
    }
    case 'binary': return binary(expr, scope, ctx);
    case 'object': {
      const fields = new Map<string, LazyField>();
      if (expr.base) {
        const base = lookup(expr.base.name, { kind: 'name', name: expr.base.name, span: expr.base.span }, scope, ctx);
        if (base.t !== 'object') throw new EvalError(`'${expr.base.name}' is ${base.t}, not a component to extend`, expr.base.span);
        if (expr.type && base.type && base.type !== expr.type.name) {
          throw new EvalError(`'${expr.base.name}' is a ${base.type}; a ${expr.type.name} cannot extend it`, expr.base.span);
        }
        for (const [k, f] of base.fields) fields.set(k, f);
      }
      for (const f of expr.fields) fields.set(f.key.name, { key: f.key.name, keySpan: f.key.span, expr: f.value, scope });
      const obj: ObjectValue = { t: 'object', type: expr.type?.name, typeSpan: expr.type?.span, fields, span: expr.span };
      return obj;
    }
  }
}

function lookup(name: string, expr: Expr, scope: Scope, ctx: EvalContext, symbols?: SymbolMode): Value {
  if (name === LAYER_NAME || name === LAYERS_NAME) {
    const v = name === LAYER_NAME ? ctx.layer : ctx.layers;
    if (v === undefined) {
      throw new EvalError(`'${name}' is only defined inside a stack's block`, expr.span,
        `'layer' is the index (from 0) of the layer being built and 'layers' the stack's depth`);
    }
    return { t: 'number', v };
  }
  const b = scope.bindings.get(name);
  if (!b) {
    if (symbols && symbols.symbols.includes(name)) return { t: 'symbol', v: name };
    const hint = symbols ? `expected one of: ${symbols.symbols.join(', ')}` : suggest(name, [...scope.bindings.keys()]);
    throw new EvalError(`unknown name '${name}'`, expr.span, hint);
  }
  const key = ctx.layer === undefined ? '' : `${ctx.layer}/${ctx.layers}`;
  const cached = b.cache.get(key) ?? b.cache.get('');
  if (cached) return cached;
  if (b.evaluating) throw new EvalError(`'${name}' is defined in terms of itself`, b.span);
  b.evaluating = true;
  try {
    const v = evaluate(b.expr, scope, ctx, symbols);
    if (v.t === 'object' && !v.name) v.name = name;
    // A value that does not read the layer index is the same in every layer; cache it once.
    b.cache.set(dependsOnLayer(b.expr, scope) ? key : '', v);
    return v;
  } finally {
    b.evaluating = false;
  }
}

/** Whether an expression reads `layer` directly or through the names it uses (objects are lazy, so they never do). */
function dependsOnLayer(expr: Expr, scope: Scope, seen = new Set<string>()): boolean {
  switch (expr.kind) {
    case 'name': {
      if (expr.name === LAYER_NAME || expr.name === LAYERS_NAME) return true;
      const b = scope.bindings.get(expr.name);
      if (!b || seen.has(expr.name)) return false;
      seen.add(expr.name);
      return dependsOnLayer(b.expr, scope, seen);
    }
    case 'unary': return dependsOnLayer(expr.operand, scope, seen);
    case 'binary': return dependsOnLayer(expr.left, scope, seen) || dependsOnLayer(expr.right, scope, seen);
    case 'cond': return [expr.test, expr.then, expr.otherwise].some((e) => dependsOnLayer(e, scope, seen));
    case 'call': return expr.args.some((e) => dependsOnLayer(e, scope, seen));
    case 'list': return expr.items.some((e) => dependsOnLayer(e, scope, seen));
    default: return false;
  }
}

function binary(expr: Extract<Expr, { kind: 'binary' }>, scope: Scope, ctx: EvalContext): Value {
  if (expr.op === 'and' || expr.op === 'or') {
    const l = truthy(evaluate(expr.left, scope, ctx), expr.left);
    if (expr.op === 'and' && !l) return { t: 'bool', v: false };
    if (expr.op === 'or' && l) return { t: 'bool', v: true };
    return { t: 'bool', v: truthy(evaluate(expr.right, scope, ctx), expr.right) };
  }
  const lv = evaluate(expr.left, scope, ctx);
  const rv = evaluate(expr.right, scope, ctx);
  if ((expr.op === '==' || expr.op === '!=') && lv.t !== 'number') {
    const same = lv.t === rv.t && JSON.stringify(lv) === JSON.stringify(rv);
    return { t: 'bool', v: expr.op === '==' ? same : !same };
  }
  const a = num(lv, expr.left);
  const b = num(rv, expr.right);
  switch (expr.op) {
    case '+': return { t: 'number', v: a + b };
    case '-': return { t: 'number', v: a - b };
    case '*': return { t: 'number', v: a * b };
    case '/':
    case '//':
    case '%':
      if (b === 0) throw new EvalError(`division by zero (${formatNumber(a)} ${expr.op} 0)`, expr.right.span);
      if (expr.op === '/') return { t: 'number', v: a / b };
      if (expr.op === '//') return { t: 'number', v: Math.floor(a / b) };
      return { t: 'number', v: ((a % b) + b) % b };
    case '**': return { t: 'number', v: a ** b };
    case '==': return { t: 'bool', v: a === b };
    case '!=': return { t: 'bool', v: a !== b };
    case '<': return { t: 'bool', v: a < b };
    case '<=': return { t: 'bool', v: a <= b };
    case '>': return { t: 'bool', v: a > b };
    case '>=': return { t: 'bool', v: a >= b };
  }
}

function num(v: Value, e: Expr): number {
  if (v.t === 'number') return v.v;
  throw new EvalError(`expected a number, found ${v.t === 'object' ? `a ${v.type ?? 'plain object'}` : v.t === 'symbol' ? `'${v.v}'` : v.t}`, e.span);
}

function truthy(v: Value, e: Expr): boolean {
  if (v.t === 'bool') return v.v;
  throw new EvalError(`expected true or false, found ${v.t === 'number' ? formatNumber(v.v) : v.t}`, e.span, 'conditions compare numbers, e.g. layer % 2 == 1');
}

/** "did you mean" from the nearest known name by edit distance. */
export function suggest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Math.max(2, Math.floor(name.length / 3)) + 1;
  for (const k of known) {
    const d = editDistance(name, k);
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best ? `did you mean '${best}'?` : undefined;
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0]!;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j]!;
      dp[j] = Math.min(dp[j]! + 1, dp[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length]!;
}
