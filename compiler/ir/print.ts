// The textual IR, MLIR-like, one item per line; compiler/ir/parse.ts reads it back to the identical graph.
//
//   graph mixtral_tiny {
//     input %input_ids: i32[batch, seq]
//     param @decoder.0.moe.experts.gate: f32[4, 128, 64] {experts = 4}
//     %5, %6 = topk(%4) {k = 2} : f32[batch*seq, 2], i32[batch*seq, 2] loc("decoder.0.moe")
//     output logits = %99
//   }
//
// Numbers print in their shortest round-trip form, laid out as Python writes floats (`1e-05`, `0.125`,
// `0.08838834764831843`, `10000`), with `-0`, `NaN`, `Infinity` and `-Infinity` spelled out. Strings in shapes and
// dim lists print bare when they are symbolic dims (`batch*seq`), quoted otherwise (`"64"`); a scalar string
// attribute is quoted with JSON escapes (`dtype = "f32"`) unless the op table says it is a `dim`
// (`q_len = seq`). Both spellings parse to the same string. Names outside `[A-Za-z0-9_.-]` (graph, op, output,
// attribute key) are quoted too.
import { ops } from './ops.ts';
import type { Attr, Dim, Graph, Node, TensorType } from './types.ts';

/** Words that mean something else when bare: never printed as bare dims. */
const RESERVED = new Set(['true', 'false', 'NaN', 'Infinity']);

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isIdentStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

/** `[A-Za-z0-9_.-]+`: the characters of value, param, output and graph names. */
export function isIrName(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!(isDigit(c) || isIdentStart(c) || c === 46 || c === 45)) return false;
  }
  return true;
}

/**
 * A symbolic dim written bare: terms joined by `+`, each a product (`*`) of integers and identifiers,
 * such as `batch`, `2*batch*seq` or `batch*seq+4`. A plain integer is not one (it reads back as a number).
 */
export function isBareDim(s: string): boolean {
  if (s.length === 0 || RESERVED.has(s)) return false;
  let partStart = 0;
  let sawSeparator = false;
  let sawIdent = false;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 42;
    if (c === 42 || c === 43) {
      if (i === partStart) return false;
      if (i < s.length) sawSeparator = true;
      partStart = i + 1;
      continue;
    }
    if (i === partStart) {
      if (isIdentStart(c)) sawIdent = true;
      else if (!isDigit(c)) return false;
    } else {
      const first = s.charCodeAt(partStart);
      if (isDigit(first) ? !isDigit(c) : !(isIdentStart(c) || isDigit(c))) return false;
    }
  }
  return sawSeparator || sawIdent;
}

/**
 * The shortest digits that read back as the same double, written as Python's repr writes floats: fixed notation
 * for decimal exponents -4 … 15 (`0.0001`, `0.125`, `10000`), else scientific with a signed two-digit exponent
 * (`1e-05`, `1e-06`, `1.5e+16`). `-0`, `NaN`, `Infinity` and `-Infinity` are spelled out.
 */
export function formatNumber(n: number): string {
  if (Object.is(n, -0)) return '-0';
  if (!Number.isFinite(n)) return String(n);
  const exp = n.toExponential(); // shortest round-trip digits: d.ddde±x
  const e = exp.indexOf('e');
  const power = Number(exp.slice(e + 1));
  if (power >= -4 && power < 16) return String(n); // the same digits, in fixed notation
  const sign = exp[e + 1] === '-' ? '-' : '+';
  const digits = exp.slice(e + 2);
  return `${exp.slice(0, e)}e${sign}${digits.length < 2 ? `0${digits}` : digits}`;
}

export function formatDim(d: Dim): string {
  if (typeof d === 'number') return formatNumber(d);
  return isBareDim(d) ? d : JSON.stringify(d);
}

export function formatType(t: TensorType): string {
  let s = `${t.dtype}[`;
  for (let i = 0; i < t.shape.length; i++) s += (i > 0 ? ', ' : '') + formatDim(t.shape[i]!);
  return `${s}]`;
}

export const formatTensorType = formatType;

function formatName(s: string): string {
  return isIrName(s) ? s : JSON.stringify(s);
}

function formatAttr(v: Attr, bareString: boolean): string {
  if (typeof v === 'number') return formatNumber(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'string') return bareString && isBareDim(v) ? v : JSON.stringify(v);
  let s = '[';
  for (let i = 0; i < v.length; i++) s += (i > 0 ? ', ' : '') + formatDim(v[i]!);
  return `${s}]`;
}

function isAttrKey(k: string): boolean {
  if (k.length === 0 || !isIdentStart(k.charCodeAt(0))) return false;
  return isIrName(k);
}

/** `key = value` for each attribute, sorted by key. */
export function formatAttrEntries(attrs: Record<string, Attr>, op?: string): string[] {
  const keys = Object.keys(attrs);
  keys.sort();
  const spec = op !== undefined && Object.prototype.hasOwnProperty.call(ops, op) ? ops[op] : undefined;
  const parts: string[] = [];
  for (const k of keys) {
    const kind = spec && Object.prototype.hasOwnProperty.call(spec.attrs, k) ? spec.attrs[k]!.kind : undefined;
    parts.push(`${isAttrKey(k) ? k : JSON.stringify(k)} = ${formatAttr(attrs[k]!, kind === 'dim')}`);
  }
  return parts;
}

/** ` {k = v, …}` with the keys sorted, or '' when there are none. */
export function formatAttrs(attrs: Record<string, Attr>, op?: string): string {
  const parts = formatAttrEntries(attrs, op);
  return parts.length === 0 ? '' : ` {${parts.join(', ')}}`;
}

export function printNode(n: Node): string {
  let s = n.outputs.length > 0 ? `${n.outputs.join(', ')} = ` : '';
  s += `${formatName(n.op)}(${n.inputs.join(', ')})${formatAttrs(n.attrs, n.op)}`;
  if (n.types !== undefined) s += n.types.length === 0 ? ' : ()' : ` : ${n.types.map(formatType).join(', ')}`;
  if (n.loc !== undefined) s += ` loc(${JSON.stringify(n.loc)})`;
  return s;
}

export function printGraph(g: Graph): string {
  const lines: string[] = [`graph ${formatName(g.name)} {`];
  for (const i of g.inputs) lines.push(`  input %${i.name}: ${formatType(i.type)}`);
  for (const p of g.params) lines.push(`  param @${p.name}: ${formatType(p.type)}${formatAttrs(p.attrs)}`);
  for (const n of g.nodes) lines.push(`  ${printNode(n)}`);
  for (const o of g.outputs) lines.push(`  output ${formatName(o.name)} = ${o.value}`);
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
