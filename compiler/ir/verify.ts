// The verifier: structural and type invariants of a graph, checked between passes.
import { dimsEqual, isValidDim } from './dims.ts';
import { ops, type AttrKind } from './ops.ts';
import { dtypes, type Attr, type Graph, type Node, type TensorType } from './types.ts';

export interface VerifyProblem {
  node?: number;
  message: string;
}

export function describeNode(g: Graph, i: number): string {
  const n = g.nodes[i]!;
  return `node ${i} (${n.outputs.join(', ')} = ${n.op}${n.loc ? ` at ${n.loc}` : ''})`;
}

export function formatType(t: TensorType): string {
  return `${t.dtype}[${t.shape.join(', ')}]`;
}

function attrMatches(kind: AttrKind, v: Attr): boolean {
  switch (kind) {
    case 'int': return typeof v === 'number' && Number.isInteger(v);
    case 'float': return typeof v === 'number';
    case 'bool': return typeof v === 'boolean';
    case 'string': return typeof v === 'string';
    case 'dtype': return typeof v === 'string' && (dtypes as readonly string[]).includes(v);
    case 'dim': return (typeof v === 'number' || typeof v === 'string') && isValidDim(v);
    case 'dims': return Array.isArray(v) && v.every((d) => isValidDim(d));
  }
}

/** Operand count bounds from the op's operand list (`x?` optional, `xs...` variadic). */
function arity(operands: string[]): [number, number] {
  if (operands.some((o) => o.endsWith('...'))) return [1, Infinity];
  const required = operands.filter((o) => !o.endsWith('?')).length;
  return [required, operands.length];
}

/** Types of every value and param reference, as far as known. */
export function typeEnvironment(g: Graph): Map<string, TensorType> {
  const env = new Map<string, TensorType>();
  for (const p of g.params) env.set(`@${p.name}`, p.type);
  for (const i of g.inputs) env.set(`%${i.name}`, i.type);
  for (const n of g.nodes) n.outputs.forEach((o, k) => n.types?.[k] && env.set(o, n.types[k]!));
  return env;
}

export function verifyGraph(g: Graph): VerifyProblem[] {
  const problems: VerifyProblem[] = [];
  const defined = new Map<string, TensorType | undefined>();
  const params = new Set<string>();
  for (const p of g.params) {
    if (params.has(p.name)) problems.push({ message: `parameter @${p.name} is declared twice` });
    params.add(p.name);
    if (!p.type.shape.every(isValidDim)) problems.push({ message: `parameter @${p.name} has an invalid shape [${p.type.shape.join(', ')}]` });
    defined.set(`@${p.name}`, p.type);
  }
  for (const i of g.inputs) defined.set(`%${i.name}`, i.type);

  g.nodes.forEach((n: Node, idx) => {
    const where = describeNode(g, idx);
    const spec = ops[n.op];
    if (!spec) {
      problems.push({ node: idx, message: `${where}: unknown op '${n.op}'` });
      for (const o of n.outputs) defined.set(o, undefined);
      return;
    }
    const [lo, hi] = arity(spec.operands);
    if (n.inputs.length < lo || n.inputs.length > hi) {
      problems.push({ node: idx, message: `${where}: ${n.op} takes ${lo === hi ? lo : hi === Infinity ? `at least ${lo}` : `${lo} to ${hi}`} operands, got ${n.inputs.length}` });
    }
    if (n.outputs.length !== spec.results.length) {
      problems.push({ node: idx, message: `${where}: ${n.op} has ${spec.results.length} results, the node names ${n.outputs.length}` });
    }
    for (const [name, a] of Object.entries(spec.attrs)) {
      const v = n.attrs[name];
      if (v === undefined) {
        if (!a.optional) problems.push({ node: idx, message: `${where}: missing attribute '${name}'` });
      } else if (!attrMatches(a.kind, v)) {
        problems.push({ node: idx, message: `${where}: attribute '${name}' must be ${a.kind}, got ${JSON.stringify(v)}` });
      }
    }
    for (const name of Object.keys(n.attrs)) {
      if (!(name in spec.attrs)) problems.push({ node: idx, message: `${where}: ${n.op} has no attribute '${name}'` });
    }
    const inTypes: TensorType[] = [];
    let typesKnown = true;
    for (const ref of n.inputs) {
      if (!defined.has(ref)) {
        problems.push({ node: idx, message: `${where}: ${ref} is ${ref.startsWith('@') ? 'not a declared parameter' : 'used before it is defined'}` });
        typesKnown = false;
        continue;
      }
      const ty = defined.get(ref);
      if (ty) inTypes.push(ty);
      else typesKnown = false;
    }
    for (const o of n.outputs) {
      if (defined.has(o)) problems.push({ node: idx, message: `${where}: ${o} is defined twice` });
    }
    if (n.types && n.types.length !== n.outputs.length) {
      problems.push({ node: idx, message: `${where}: ${n.outputs.length} results but ${n.types.length} types` });
    }
    if (typesKnown && problems.every((p) => p.node !== idx)) {
      const inferred = spec.infer(inTypes, n.attrs);
      if (typeof inferred === 'string') {
        problems.push({ node: idx, message: `${where}: ${inferred}` });
      } else if (n.types) {
        inferred.forEach((t, k) => {
          const have = n.types![k];
          if (have && !(have.dtype === t.dtype && have.shape.length === t.shape.length && have.shape.every((d, j) => dimsEqual(d, t.shape[j]!)))) {
            problems.push({ node: idx, message: `${where}: result ${n.outputs[k]} is declared ${formatType(have)} but the operands give ${formatType(t)}` });
          }
        });
      }
    }
    n.outputs.forEach((o, k) => defined.set(o, n.types?.[k]));
  });

  const names = new Set<string>();
  for (const o of g.outputs) {
    if (names.has(o.name)) problems.push({ message: `output '${o.name}' is named twice` });
    names.add(o.name);
    if (!defined.has(o.value)) problems.push({ message: `output '${o.name}' refers to ${o.value}, which is not defined` });
  }
  return problems;
}
