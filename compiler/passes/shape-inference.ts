// shape-inference: gives every node its result types from its operands' types and the op table.
import { ops } from '../ir/ops.ts';
import type { Graph, TensorType } from '../ir/types.ts';
import { describeNode, typeEnvironment } from '../ir/verify.ts';
import { PassError, type Pass } from './pass.ts';

export const shapeInference: Pass = {
  name: 'shape-inference',
  description: 'infer the dtype and symbolic shape of every value',
  run(g: Graph): Graph {
    const env = typeEnvironment({ ...g, nodes: [] });
    const nodes = g.nodes.map((n, i) => {
      const ins: TensorType[] = n.inputs.map((r) => {
        const t = env.get(r);
        if (!t) throw new PassError('shape-inference', `${describeNode(g, i)}: ${r} has no known type`);
        return t;
      });
      const spec = ops[n.op];
      if (!spec) throw new PassError('shape-inference', `${describeNode(g, i)}: unknown op '${n.op}'`);
      const types = spec.infer(ins, n.attrs);
      if (typeof types === 'string') throw new PassError('shape-inference', `${describeNode(g, i)}: ${types}`);
      n.outputs.forEach((o, k) => env.set(o, types[k]!));
      return { ...n, types };
    });
    return { ...g, nodes };
  },
};
