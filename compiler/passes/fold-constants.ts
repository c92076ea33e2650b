// fold-constants: evaluates arithmetic on scalar constants, drops no-op shape and scaling nodes
// (a reshape to the same shape, an identity transpose, a cast to the same dtype, scale by 1,
// reshape of a reshape) and writes symbolic dimensions in canonical form.
import { dimsEqual, normDim } from '../ir/dims.ts';
import type { Attr, Graph, Node } from '../ir/types.ts';
import { typeEnvironment } from '../ir/verify.ts';
import type { Pass } from './pass.ts';

const scalarOps: Record<string, (a: number, b: number) => number> = {
  add: (a, b) => a + b, sub: (a, b) => a - b, mul: (a, b) => a * b, div: (a, b) => a / b, maximum: Math.max,
};
const scalarUnary: Record<string, (a: number) => number> = {
  neg: (a) => -a, sqrt: Math.sqrt, rsqrt: (a) => 1 / Math.sqrt(a), exp: Math.exp, log: Math.log, square: (a) => a * a,
};

function canonical(attrs: Record<string, Attr>): Record<string, Attr> {
  const out: Record<string, Attr> = {};
  for (const [k, v] of Object.entries(attrs)) out[k] = Array.isArray(v) ? v.map(normDim) : v;
  return out;
}

export const foldConstants: Pass = {
  name: 'fold-constants',
  description: 'fold scalar constants and dimension arithmetic, drop identity reshapes/transposes/casts/scales',
  run(g: Graph): Graph {
    const rename = new Map<string, string>();
    const constValue = new Map<string, { value: number; dtype: Attr }>();
    const producer = new Map<string, Node>();
    const types = typeEnvironment(g);
    const nodes: Node[] = [];
    const resolve = (r: string) => rename.get(r) ?? r;

    for (const n0 of g.nodes) {
      const n: Node = { ...n0, inputs: n0.inputs.map(resolve), attrs: canonical(n0.attrs) };
      const inType = n.inputs[0] ? types.get(n.inputs[0]) : undefined;
      const alias = (): void => {
        rename.set(n.outputs[0]!, n.inputs[0]!);
      };

      if (n.op === 'const') constValue.set(n.outputs[0]!, { value: n.attrs.value as number, dtype: n.attrs.dtype! });
      const a = constValue.get(n.inputs[0] ?? '');
      const b = constValue.get(n.inputs[1] ?? '');
      if (a && b && scalarOps[n.op] && n.inputs.length === 2) {
        const folded: Node = { op: 'const', inputs: [], outputs: n.outputs, attrs: { dtype: a.dtype, value: scalarOps[n.op]!(a.value, b.value) }, types: n.types, loc: n.loc };
        constValue.set(n.outputs[0]!, { value: folded.attrs.value as number, dtype: a.dtype });
        nodes.push(folded);
        producer.set(n.outputs[0]!, folded);
        continue;
      }
      if (a && n.inputs.length === 1 && (scalarUnary[n.op] || n.op === 'scale')) {
        const v = n.op === 'scale' ? a.value * (n.attrs.factor as number) : scalarUnary[n.op]!(a.value);
        const folded: Node = { op: 'const', inputs: [], outputs: n.outputs, attrs: { dtype: a.dtype, value: v }, types: n.types, loc: n.loc };
        constValue.set(n.outputs[0]!, { value: v, dtype: a.dtype });
        nodes.push(folded);
        producer.set(n.outputs[0]!, folded);
        continue;
      }
      if (n.op === 'scale' && n.attrs.factor === 1) { alias(); continue; }
      if (n.op === 'transpose' && (n.attrs.perm as number[]).every((p, i) => p === i)) { alias(); continue; }
      if (n.op === 'cast' && inType && inType.dtype === n.attrs.dtype) { alias(); continue; }
      if (n.op === 'reshape') {
        if (inType && inType.shape.length === (n.attrs.shape as Attr[]).length && inType.shape.every((d, i) => dimsEqual(d, (n.attrs.shape as (string | number)[])[i]!))) {
          alias();
          continue;
        }
        const p = producer.get(n.inputs[0]!);
        if (p && p.op === 'reshape') n.inputs = [p.inputs[0]!];
      }
      nodes.push(n);
      for (const o of n.outputs) producer.set(o, n);
    }
    return { ...g, nodes, outputs: g.outputs.map((o) => ({ ...o, value: resolve(o.value) })) };
  },
};
