// The executor itself: references, parameters, shape checks against the IR's types, errors that name the node,
// values kept on request.
import { describe, expect, it } from 'vitest';
import type { Graph, Node } from '../../compiler/ir/types.ts';
import { execute, ExecutionError, tensorOf, type Tensor } from '../../runtime/reference/index.ts';

const f32 = (shape: number[], v: number[]) => tensorOf('f32', shape, v);
const noParams = (name: string): Tensor => {
  throw new Error(`unexpected parameter ${name}`);
};

/** y = linear(x, @w) + x, then relu; x [batch, 2] and w [2, 2]. */
function mlp(types = true): Graph {
  const t = (shape: (number | string)[]) => (types ? [{ dtype: 'f32' as const, shape }] : undefined);
  const nodes: Node[] = [
    { op: 'linear', inputs: ['%x', '@w'], outputs: ['%h'], attrs: {}, types: t(['batch', 2]), loc: 'layer.0' },
    { op: 'add', inputs: ['%h', '%x'], outputs: ['%r'], attrs: {}, types: t(['batch', 2]) },
    { op: 'relu', inputs: ['%r'], outputs: ['%y'], attrs: {}, types: t(['batch', 2]) },
  ];
  return {
    name: 'mlp',
    inputs: [{ name: 'x', type: { dtype: 'f32', shape: ['batch', 2] } }],
    params: [{ name: 'w', type: { dtype: 'f32', shape: [2, 2] }, attrs: {} }],
    nodes,
    outputs: [{ name: 'y', value: '%y' }],
  };
}

// x = [[1, -2], [3, 4]], w = [[1, 1], [0, -1]]: x·wᵀ = [[-1, 2], [7, -4]]; + x = [[0, 0], [10, 0]]; relu = same
const x = f32([2, 2], [1, -2, 3, 4]);
const w = f32([2, 2], [1, 1, 0, -1]);
const params = (name: string) => (name === 'w' ? w : noParams(name));

describe('execute', () => {
  it('runs the nodes in order with %value and @param references', () => {
    const { outputs, values } = execute(mlp(), params, { x }, { batch: 2 });
    expect(outputs.y!.shape).toEqual([2, 2]);
    expect(Array.from(outputs.y!.data)).toEqual([0, 0, 10, 0]);
    expect(values).toBeUndefined(); // nothing asked to be kept
  });

  it('runs a graph without types (before shape inference) too', () => {
    expect(Array.from(execute(mlp(false), params, { x }, { batch: 2 }).outputs.y!.data)).toEqual([0, 0, 10, 0]);
  });

  it('shapes come from attributes and operands, not from node.types: reshape and dispatch run untyped', () => {
    // x [1, 4] → [2, 2] tokens; top-1 routes [1, 0] → expert 0 owns row 0 (token 1), expert 1 row 1 (token 0)
    const g: Graph = {
      name: 'untyped',
      inputs: [{ name: 'x', type: { dtype: 'f32', shape: [1, 4] } }, { name: 'e', type: { dtype: 'i32', shape: [2, 1] } }],
      params: [],
      nodes: [
        { op: 'reshape', inputs: ['%x'], outputs: ['%t'], attrs: { shape: ['tokens', 2] } },
        { op: 'dispatch', inputs: ['%t', '%e'], outputs: ['%rows', '%offsets', '%slots'], attrs: { experts: 2 } },
      ],
      outputs: [{ name: 'rows', value: '%rows' }, { name: 'slots', value: '%slots' }],
    };
    const { outputs } = execute(g, noParams, { x: f32([1, 4], [1, 2, 3, 4]), e: tensorOf('i32', [2, 1], [1, 0]) }, { tokens: 2 });
    expect(Array.from(outputs.rows!.data)).toEqual([3, 4, 1, 2]);
    expect(Array.from(outputs.slots!.data)).toEqual([1, 0]);
  });

  it('keeps and returns the values `keep` asks for', () => {
    const { values } = execute(mlp(), params, { x }, { batch: 2 }, { keep: (v) => v === '%h' });
    expect([...values!.keys()]).toEqual(['%h']);
    expect(Array.from(values!.get('%h')!.data)).toEqual([-1, 2, 7, -4]);
  });

  it('fetches each parameter once', () => {
    let calls = 0;
    const g = mlp();
    g.nodes.push({ op: 'linear', inputs: ['%y', '@w'], outputs: ['%z'], attrs: {} });
    g.outputs.push({ name: 'z', value: '%z' });
    execute(g, (n) => { calls++; return params(n); }, { x }, { batch: 2 });
    expect(calls).toBe(1);
  });

  it('a result whose shape differs from the IR is an error naming the node index, op and both shapes', () => {
    const g = mlp();
    g.nodes[1]!.types = [{ dtype: 'f32', shape: ['batch', 3] }];
    expect(() => execute(g, params, { x }, { batch: 2 })).toThrow(ExecutionError);
    expect(() => execute(g, params, { x }, { batch: 2 })).toThrow('node 1 (%r = add): result %r was computed as f32[2, 2] but the graph declares f32[batch, 3] = [2, 3] (shape mismatch)');
  });

  it('inputs are checked against their declared types with the sizes', () => {
    expect(() => execute(mlp(), params, { x }, { batch: 3 })).toThrow("input 'x' is f32[2, 2] but the graph declares f32[batch, 2] = [3, 2]");
    expect(() => execute(mlp(), params, { x }, {})).toThrow(/input 'x': no size given for the dimension 'batch'/);
    expect(() => execute(mlp(), params, {}, { batch: 2 })).toThrow("missing input 'x' (f32[batch, 2])");
    expect(() => execute(mlp(), params, { x, extra: x }, { batch: 2 })).toThrow("unknown input 'extra' (the graph takes: x)");
    expect(() => execute(mlp(), params, { x: tensorOf('i32', [2, 2], [1, 2, 3, 4]) }, { batch: 2 })).toThrow(/input 'x' is i32\[2, 2\]/);
  });

  it('parameters are checked against their declared types', () => {
    expect(() => execute(mlp(), () => f32([2, 3], [1, 2, 3, 4, 5, 6]), { x }, { batch: 2 })).toThrow('parameter @w is f32[2, 3] but the graph declares f32[2, 2]');
    const g = mlp();
    g.nodes[0]!.inputs = ['%x', '@v'];
    expect(() => execute(g, params, { x }, { batch: 2 })).toThrow('node 0 (%h = linear at layer.0): @v is not a declared parameter');
  });

  it('a kernel error is reported with the node, its location and its operands', () => {
    const g: Graph = {
      name: 'emb',
      inputs: [{ name: 'ids', type: { dtype: 'i32', shape: [2] } }],
      params: [{ name: 'table', type: { dtype: 'f32', shape: [3, 2] }, attrs: {} }],
      nodes: [{ op: 'embedding', inputs: ['%ids', '@table'], outputs: ['%e'], attrs: {}, loc: 'embed' }],
      outputs: [{ name: 'e', value: '%e' }],
    };
    const run = () => execute(g, () => f32([3, 2], [0, 1, 2, 3, 4, 5]), { ids: tensorOf('i32', [2], [1, 7]) }, {});
    expect(run).toThrow('node 0 (%e = embedding at embed): token id 7 is outside the embedding table of 3 rows (operands %ids: i32[2], @table: f32[3, 2])');
    try {
      run();
    } catch (e) {
      expect(e).toBeInstanceOf(ExecutionError);
      expect((e as ExecutionError).nodeIndex).toBe(0);
      expect((e as ExecutionError).op).toBe('embedding');
    }
  });

  it('an op without a kernel and a value used before it is defined are errors', () => {
    const g = mlp();
    g.nodes[2]!.op = 'softplus';
    expect(() => execute(g, params, { x }, { batch: 2 })).toThrow("node 2 (%y = softplus): the reference executor has no kernel for 'softplus'");
    const h = mlp();
    h.nodes[1]!.inputs = ['%h', '%later'];
    expect(() => execute(h, params, { x }, { batch: 2 })).toThrow('node 1 (%r = add): operand %later has no value');
  });

  it('an output may name an input directly; a value read later is not freed early', () => {
    const g = mlp();
    g.outputs.push({ name: 'x_again', value: '%x' });
    // %h is read by node 1 only; %x by nodes 0 and 1 and the output
    const { outputs } = execute(g, params, { x }, { batch: 2 });
    expect(outputs.x_again).toBe(x);
  });
});
