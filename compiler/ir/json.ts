// The graph IR as JSON: the same plain data in a stable key order (name, inputs, params, nodes, outputs), with its
// structure checked on the way back in. JSON has no -0, NaN or ±Infinity; those numbers (in attributes and
// shapes) are written as {"$number": "-0" | "NaN" | "Infinity" | "-Infinity"}.
import { dtypes, type Attr, type Dim, type DType, type Graph, type Input, type Node, type Output, type Param, type TensorType } from './types.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export class IrJsonError extends Error {
  override readonly name = 'IrJsonError';
  constructor(readonly path: string, readonly reason: string) {
    super(path ? `${path}: ${reason}` : reason);
  }
}

// ---- writing -----------------------------------------------------------------------------------------------

function num(n: number): Json {
  if (Number.isFinite(n) && !Object.is(n, -0)) return n;
  return { $number: Object.is(n, -0) ? '-0' : String(n) };
}

function typeJson(t: TensorType): Json {
  return { dtype: t.dtype, shape: t.shape.map((d) => (typeof d === 'number' ? num(d) : d)) };
}

function attrsJson(attrs: Record<string, Attr>): Json {
  const out: { [key: string]: Json } = {};
  for (const k of Object.keys(attrs).sort()) {
    const v = attrs[k]!;
    const j: Json = typeof v === 'number' ? num(v) : Array.isArray(v) ? v.map((d) => (typeof d === 'number' ? num(d) : d)) : v;
    if (k === '__proto__') Object.defineProperty(out, k, { value: j, enumerable: true, writable: true, configurable: true });
    else out[k] = j;
  }
  return out;
}

/** Nesting depth: 0 for a plain value, 1 for a flat array or object, … */
function depth(v: Json): number {
  if (v === null || typeof v !== 'object') return 0;
  let d = 0;
  for (const x of Array.isArray(v) ? v : Object.values(v)) d = Math.max(d, depth(x));
  return d + 1;
}

function oneLine(v: Json): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(oneLine).join(', ')}]`;
  return `{${Object.keys(v).map((k) => `${JSON.stringify(k)}: ${oneLine(v[k]!)}`).join(', ')}}`;
}

/** Pretty JSON, two-space indent, with small leaves (shapes, operand lists, types, attributes) kept on one line. */
function pretty(v: Json, indent: string): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (depth(v) <= 2) {
    const line = oneLine(v);
    if (line.length <= 100) return line;
  }
  const inner = `${indent}  `;
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    return `[\n${v.map((x) => inner + pretty(x, inner)).join(',\n')}\n${indent}]`;
  }
  const keys = Object.keys(v);
  if (keys.length === 0) return '{}';
  return `{\n${keys.map((k) => `${inner}${JSON.stringify(k)}: ${pretty(v[k]!, inner)}`).join(',\n')}\n${indent}}`;
}

export function graphToJson(g: Graph): string {
  const doc: Json = {
    name: g.name,
    inputs: g.inputs.map((i) => ({ name: i.name, type: typeJson(i.type) })),
    params: g.params.map((p) => ({ name: p.name, type: typeJson(p.type), attrs: attrsJson(p.attrs) })),
    nodes: g.nodes.map((n) => {
      const o: { [key: string]: Json } = { op: n.op, inputs: n.inputs, outputs: n.outputs, attrs: attrsJson(n.attrs) };
      if (n.types !== undefined) o.types = n.types.map(typeJson);
      if (n.loc !== undefined) o.loc = n.loc;
      return o;
    }),
    outputs: g.outputs.map((o) => ({ name: o.name, value: o.value })),
  };
  return `${pretty(doc, '')}\n`;
}

// ---- reading -----------------------------------------------------------------------------------------------

const dtypeSet: ReadonlySet<string> = new Set(dtypes);
const SPECIAL: Record<string, number> = { '-0': -0, NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };

function fail(path: string, what: string): never {
  throw new IrJsonError(path || '(root)', `expected ${what}`);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return `${typeof v} ${String(v)}`;
}

function expectObject(v: unknown, path: string, keys: readonly string[], required: readonly string[]): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) fail(path, `an object, got ${describe(v)}`);
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!keys.includes(k)) throw new IrJsonError(at(path, k), `unexpected key (expected one of ${keys.join(', ')})`);
  for (const k of required) if (!Object.prototype.hasOwnProperty.call(o, k)) throw new IrJsonError(at(path, k), 'missing');
  return o;
}

function at(path: string, key: string): string {
  const k = /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? key : JSON.stringify(key);
  if (!path) return k;
  return k.startsWith('"') ? `${path}[${k}]` : `${path}.${k}`;
}

function str(v: unknown, path: string): string {
  return typeof v === 'string' ? v : fail(path, `a string, got ${describe(v)}`);
}

function arr(v: unknown, path: string): unknown[] {
  return Array.isArray(v) ? v : fail(path, `an array, got ${describe(v)}`);
}

function number(v: unknown, path: string): number | undefined {
  if (typeof v === 'number') return v;
  if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.prototype.hasOwnProperty.call(v, '$number')) {
    const o = v as Record<string, unknown>;
    const s = o.$number;
    if (Object.keys(o).length !== 1 || typeof s !== 'string' || !Object.prototype.hasOwnProperty.call(SPECIAL, s)) {
      fail(path, '{"$number": "-0" | "NaN" | "Infinity" | "-Infinity"}');
    }
    return SPECIAL[s]!;
  }
  return undefined;
}

function dim(v: unknown, path: string): Dim {
  if (typeof v === 'string') return v;
  const n = number(v, path);
  return n !== undefined ? n : fail(path, `a number or a symbolic dimension, got ${describe(v)}`);
}

function ref(v: unknown, path: string, sigils: string): string {
  const s = str(v, path);
  if (s.length < 2 || !sigils.includes(s[0]!)) fail(path, sigils === '%' ? `a %value, got ${describe(s)}` : `a %value or @param reference, got ${describe(s)}`);
  return s;
}

function type(v: unknown, path: string): TensorType {
  const o = expectObject(v, path, ['dtype', 'shape'], ['dtype', 'shape']);
  const dtype = str(o.dtype, `${path}.dtype`);
  if (!dtypeSet.has(dtype)) fail(`${path}.dtype`, `one of ${dtypes.join(', ')}, got ${describe(dtype)}`);
  return { dtype: dtype as DType, shape: arr(o.shape, `${path}.shape`).map((d, i) => dim(d, `${path}.shape[${i}]`)) };
}

function attrs(v: unknown, path: string): Record<string, Attr> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) fail(path, `an object, got ${describe(v)}`);
  const out: Record<string, Attr> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    const p = at(path, k);
    let a: Attr;
    if (typeof x === 'boolean' || typeof x === 'string') a = x;
    else if (Array.isArray(x)) a = x.map((d, i) => dim(d, `${p}[${i}]`));
    else {
      const n = number(x, p);
      a = n !== undefined ? n : fail(p, `a number, boolean, string or array of dims, got ${describe(x)}`);
    }
    if (k === '__proto__') Object.defineProperty(out, k, { value: a, enumerable: true, writable: true, configurable: true });
    else out[k] = a;
  }
  return out;
}

/** Reads graphToJson's output back; throws IrJsonError with the path of the first problem (`nodes[3].inputs[1]: …`). */
export function graphFromJson(text: string): Graph {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new IrJsonError('', `invalid JSON: ${(e as Error).message}`);
  }
  const g = expectObject(doc, '', ['name', 'inputs', 'params', 'nodes', 'outputs'], ['name', 'inputs', 'params', 'nodes', 'outputs']);
  const inputs = arr(g.inputs, 'inputs').map((x, i): Input => {
    const p = `inputs[${i}]`;
    const o = expectObject(x, p, ['name', 'type'], ['name', 'type']);
    return { name: str(o.name, `${p}.name`), type: type(o.type, `${p}.type`) };
  });
  const params = arr(g.params, 'params').map((x, i): Param => {
    const p = `params[${i}]`;
    const o = expectObject(x, p, ['name', 'type', 'attrs'], ['name', 'type']);
    return { name: str(o.name, `${p}.name`), type: type(o.type, `${p}.type`), attrs: o.attrs === undefined ? {} : attrs(o.attrs, `${p}.attrs`) };
  });
  const nodes = arr(g.nodes, 'nodes').map((x, i): Node => {
    const p = `nodes[${i}]`;
    const o = expectObject(x, p, ['op', 'inputs', 'outputs', 'attrs', 'types', 'loc'], ['op', 'inputs', 'outputs']);
    const node: Node = {
      op: str(o.op, `${p}.op`),
      inputs: arr(o.inputs, `${p}.inputs`).map((r, j) => ref(r, `${p}.inputs[${j}]`, '%@')),
      outputs: arr(o.outputs, `${p}.outputs`).map((r, j) => ref(r, `${p}.outputs[${j}]`, '%')),
      attrs: o.attrs === undefined ? {} : attrs(o.attrs, `${p}.attrs`),
    };
    if (o.types !== undefined) node.types = arr(o.types, `${p}.types`).map((t, j) => type(t, `${p}.types[${j}]`));
    if (o.loc !== undefined) node.loc = str(o.loc, `${p}.loc`);
    return node;
  });
  const outputs = arr(g.outputs, 'outputs').map((x, i): Output => {
    const p = `outputs[${i}]`;
    const o = expectObject(x, p, ['name', 'value'], ['name', 'value']);
    return { name: str(o.name, `${p}.name`), value: ref(o.value, `${p}.value`, '%@') };
  });
  return { name: str(g.name, 'name'), inputs, params, nodes, outputs };
}
