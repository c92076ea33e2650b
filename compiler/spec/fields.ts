// Reads and validates the fields of one component object against its schema, collecting diagnostics instead of stopping.
import { error, type Diagnostic } from '../../dsl/diagnostics.ts';
import type { Span } from '../../dsl/source.ts';
import { evaluate, suggest } from './evaluate.ts';
import { kinds } from './schema.ts';
import { EvalError, describeValue, formatNumber, type EvalContext, type ObjectValue, type Value } from './values.ts';

/** The largest value of an integer field (a dimension, a count, a seed). */
export const MAX_INT_FIELD = 2 ** 31 - 1;

export class Fields {
  private readonly schema;

  constructor(
    readonly obj: ObjectValue,
    readonly kind: string,
    readonly ctx: EvalContext,
    readonly diags: Diagnostic[],
  ) {
    this.schema = kinds[kind]!;
    for (const [key, f] of obj.fields) {
      if (!(key in this.schema.fields)) {
        const names = Object.keys(this.schema.fields);
        diags.push(error(`unknown field '${key}' in ${kind}`, f.keySpan, suggest(key, names) ?? `the fields of ${kind} are: ${names.join(', ')}`));
      }
    }
    for (const [key, f] of Object.entries(this.schema.fields)) {
      if (f.required && !obj.fields.has(key)) {
        diags.push(error(`${kind}${obj.name ? ` '${obj.name}'` : ''} is missing the field '${key}'`, obj.typeSpan ?? obj.span, `${key}: ${f.type} — ${f.doc}`));
      }
    }
  }

  has(name: string): boolean {
    return this.obj.fields.has(name);
  }

  /** The span of a field's value, or of the whole object when the field is absent. */
  span(name: string): Span {
    const f = this.obj.fields.get(name);
    return f ? f.expr.span : (this.obj.typeSpan ?? this.obj.span);
  }

  fail(name: string, message: string, hint?: string): void {
    this.diags.push(error(message, this.span(name), hint));
  }

  value(name: string, symbols?: readonly string[]): Value | undefined {
    const f = this.obj.fields.get(name);
    if (!f) return undefined;
    try {
      return evaluate(f.expr, f.scope, this.ctx, symbols ? { symbols } : undefined);
    } catch (e) {
      if (e instanceof EvalError) {
        this.diags.push(error(e.message, e.span, e.hint));
        return undefined;
      }
      throw e;
    }
  }

  number(name: string, fallback: number, opts: { min?: number; positive?: boolean } = {}): number {
    const v = this.value(name);
    if (v === undefined) return fallback;
    if (v.t !== 'number' || !Number.isFinite(v.v)) {
      this.fail(name, `${this.kind}.${name} must be a number, found ${describeValue(v)}`);
      return fallback;
    }
    if (opts.positive && !(v.v > 0)) {
      this.fail(name, `${this.kind}.${name} must be greater than 0, found ${formatNumber(v.v)}`);
      return fallback;
    }
    if (opts.min !== undefined && v.v < opts.min) {
      this.fail(name, `${this.kind}.${name} must be at least ${opts.min}, found ${formatNumber(v.v)}`);
      return fallback;
    }
    return v.v;
  }

  int(name: string, fallback: number, min = 1): number {
    const v = this.value(name);
    if (v === undefined) return fallback;
    if (v.t !== 'number') {
      this.fail(name, `${this.kind}.${name} must be an integer, found ${describeValue(v)}`);
      return fallback;
    }
    if (!Number.isInteger(v.v)) {
      this.fail(name, `${this.kind}.${name} must be an integer, found ${formatNumber(v.v)}`, 'a division that does not come out even? use // for floor division');
      return fallback;
    }
    if (v.v < min) {
      this.fail(name, `${this.kind}.${name} must be at least ${min}, found ${v.v}`);
      return fallback;
    }
    // Sizes and counts below 2^31: products of two stay exact in a double, and no runtime indexes past int32.
    if (v.v > MAX_INT_FIELD) {
      this.fail(name, `${this.kind}.${name} is ${v.v}, over the limit of ${MAX_INT_FIELD} (2^31 - 1) for a size or count`);
      return fallback;
    }
    return v.v;
  }

  bool(name: string, fallback: boolean): boolean {
    const v = this.value(name);
    if (v === undefined) return fallback;
    if (v.t !== 'bool') {
      this.fail(name, `${this.kind}.${name} must be true or false, found ${describeValue(v)}`);
      return fallback;
    }
    return v.v;
  }

  string(name: string, fallback: string): string {
    const v = this.value(name);
    if (v === undefined) return fallback;
    if (v.t !== 'string') {
      this.fail(name, `${this.kind}.${name} must be a string, found ${describeValue(v)}`);
      return fallback;
    }
    return v.v;
  }

  oneOf<T extends string>(name: string, values: readonly T[], fallback: T): T {
    const v = this.value(name, values);
    if (v === undefined) return fallback;
    const s = v.t === 'symbol' || v.t === 'string' ? v.v : undefined;
    if (s === undefined || !values.includes(s as T)) {
      this.fail(name, `${this.kind}.${name} must be one of ${values.join(', ')}, found ${describeValue(v)}`);
      return fallback;
    }
    return s as T;
  }

  /** A component of one of the given kinds; `none` gives null; absent gives undefined. A plain `{…}` takes the only kind allowed. */
  component(name: string, allowed: readonly string[]): { obj: ObjectValue; kind: string } | null | undefined {
    const v = this.value(name);
    if (v === undefined) return undefined;
    if (v.t === 'none') return null;
    if (v.t !== 'object') {
      this.fail(name, `${this.kind}.${name} must be ${article(allowed)}, found ${describeValue(v)}`);
      return undefined;
    }
    const kind = v.type ?? (allowed.length === 1 ? allowed[0] : undefined);
    if (kind === undefined) {
      this.fail(name, `${this.kind}.${name}: write which kind this object is`, `one of: ${allowed.join(', ')}, e.g. ${allowed[0]} { … }`);
      return undefined;
    }
    if (!(kind in kinds)) {
      this.diags.push(error(`unknown component kind '${kind}'`, v.typeSpan ?? v.span, suggest(kind, Object.keys(kinds)) ?? `the kinds are: ${Object.keys(kinds).join(', ')}`));
      return undefined;
    }
    if (!allowed.includes(kind)) {
      this.fail(name, `${this.kind}.${name} must be ${article(allowed)}, found ${describeValue(v)}`);
      return undefined;
    }
    return { obj: v, kind };
  }
}

function article(kindsAllowed: readonly string[]): string {
  const a = (k: string) => (/^[aeiou]/.test(k) ? `an ${k}` : `a ${k}`);
  return kindsAllowed.length === 1 ? a(kindsAllowed[0]!) : `${kindsAllowed.slice(0, -1).map(a).join(', ')} or ${a(kindsAllowed[kindsAllowed.length - 1]!)}`;
}
