// MoE routing on cases worked out by hand: top-k with and without renormalisation, DeepSeek-V3 group-limited
// top-k with a selection-only bias, Switch capacity and dropping, Expert Choice from ops, hashing.
// Compositions are real graphs, typed by shape inference and run by the executor.
import { describe, expect, it } from 'vitest';
import { shapeInference } from '../../compiler/passes/shape-inference.ts';
import type { Attr, Dim, DType, Graph } from '../../compiler/ir/types.ts';
import { balancedHash, execute, hashRouteTable, kernels, mulberry32, tensorOf, type Tensor } from '../../runtime/reference/index.ts';

type NodeSpec = [op: string, inputs: string[], outputs: string[], attrs?: Record<string, Attr>];

/** A typed graph from inputs `name: dtype[shape]`, nodes and outputs (output name = value name without `%`). */
function graph(inputs: Record<string, [DType, Dim[]]>, nodes: NodeSpec[], outputs: string[]): Graph {
  return shapeInference.run({
    name: 'test',
    inputs: Object.entries(inputs).map(([name, [dtype, shape]]) => ({ name, type: { dtype, shape } })),
    params: [],
    nodes: nodes.map(([op, ins, outs, attrs]) => ({ op, inputs: ins, outputs: outs, attrs: attrs ?? {} })),
    outputs: outputs.map((o) => ({ name: o.slice(1), value: o })),
  });
}

function run(g: Graph, feeds: Record<string, Tensor>, sizes: Record<string, number> = {}): Record<string, number[]> {
  const { outputs } = execute(g, () => { throw new Error('no params'); }, feeds, sizes);
  return Object.fromEntries(Object.entries(outputs).map(([k, t]) => [k, Array.from(t.data)]));
}

const f32 = (shape: number[], v: number[]) => tensorOf('f32', shape, v);
const i32 = (shape: number[], v: number[]) => tensorOf('i32', shape, v);
const close = (got: number[] | undefined, want: number[], digits = 6) => {
  expect(got).toHaveLength(want.length);
  got!.forEach((g, i) => expect(g, `element ${i}`).toBeCloseTo(want[i]!, digits));
};

describe('softmax top-k', () => {
  // logits row 0 = [0, ln 6, ln 3] → e^l = [1, 6, 3] / 10 → p = [0.1, 0.6, 0.3]
  // logits row 1 = [ln 2, 0, 0]     → [2, 1, 1] / 4       → p = [0.5, 0.25, 0.25] (a tie)
  const logits = f32([2, 3], [0, Math.log(6), Math.log(3), Math.log(2), 0, 0]);
  const nodes = (renormalise: boolean): NodeSpec[] => [
    ['softmax', ['%l'], ['%p'], { axis: -1 }],
    ['topk', ['%p'], ['%v', '%i'], { k: 2 }],
    ['gather_last', ['%p', '%i'], ['%g']],
    ...(renormalise ? [['reduce_sum', ['%v'], ['%s'], { axis: -1, keepdims: true }] as NodeSpec, ['div', ['%v', '%s'], ['%w']] as NodeSpec] : [['scale', ['%v'], ['%w'], { factor: 1 }] as NodeSpec]),
  ];

  it('without renormalisation (Switch, OLMoE): the top-2 probabilities; a tie goes to the lower index', () => {
    const r = run(graph({ l: ['f32', [2, 3]] }, nodes(false), ['%w', '%i', '%g']), { l: logits });
    expect(r.i).toEqual([1, 2, 0, 1]);
    close(r.w, [0.6, 0.3, 0.5, 0.25]);
    close(r.g, r.w!); // gather_last of the probabilities at the chosen indices gives back the values
  });

  it('with renormalisation (Mixtral: reduce_sum + div): [0.6, 0.3]/0.9 = [2/3, 1/3]; [0.5, 0.25]/0.75 = [2/3, 1/3]', () => {
    const r = run(graph({ l: ['f32', [2, 3]] }, nodes(true), ['%w', '%i']), { l: logits });
    expect(r.i).toEqual([1, 2, 0, 1]);
    close(r.w, [2 / 3, 1 / 3, 2 / 3, 1 / 3]);
  });

  it('values come largest first; k larger than the axis is an error', () => {
    const [v, i] = kernels.topk!([f32([4], [3, 1, 4, 1])], { k: 4 }, { sizes: {}, outShapes: [] });
    expect(Array.from(v!.data)).toEqual([4, 3, 1, 1]);
    expect(Array.from(i!.data)).toEqual([2, 0, 1, 3]);
    expect(() => kernels.topk!([f32([2], [1, 2])], { k: 3 }, { sizes: {}, outShapes: [] })).toThrow(/k = 3 is out of range/);
  });
});

describe('DeepSeek-V3 group-limited top-k, bias for selection only', () => {
  // 6 experts in 3 groups of 2, keep the best 2 groups, k = 2. Dyadic values, so every sum is exact in float32.
  //   s (sigmoid scores)     = [0.75, 0.5 | 0.875, 0.125 | 0.375, 0.25]
  //   b (correction bias)    = [0,    0   | 0,     0     | 0.5,   0.5 ]
  //   c = s + b              = [0.75, 0.5 | 0.875, 0.125 | 0.875, 0.75]
  //   group score (top-2 sum)= [1.25       | 1.0          | 1.625      ] → keep groups 2 and 0
  //   c masked to -inf       = [0.75, 0.5 | -inf,  -inf  | 0.875, 0.75]
  //   top-2 → expert 4 (0.875), then the tie 0.75 between experts 0 and 5 → 0
  //   weights = s[[4, 0]] = [0.375, 0.75], / 1.125 = [1/3, 2/3], · routed_scaling 2.5 = [0.8333, 1.6667]
  const s = f32([1, 6], [0.75, 0.5, 0.875, 0.125, 0.375, 0.25]);
  const b = f32([1, 6], [0, 0, 0, 0, 0.5, 0.5]);
  const route = (attrs: Record<string, Attr>, withBias: boolean) => graph({ s: ['f32', [1, 6]], b: ['f32', [1, 6]] }, [
    withBias ? ['add', ['%s', '%b'], ['%c']] : ['scale', ['%s'], ['%c'], { factor: 1 }],
    ['topk', ['%c'], ['%v', '%i'], { k: 2, ...attrs }],
    ['gather_last', ['%s', '%i'], ['%g']],
    ['reduce_sum', ['%g'], ['%n'], { axis: -1, keepdims: true }],
    ['div', ['%g', '%n'], ['%q']],
    ['scale', ['%q'], ['%w'], { factor: 2.5 }],
  ], ['%i', '%v', '%w']);

  it('selects by biased scores within the best groups, weighs by the unbiased scores', () => {
    const r = run(route({ groups: 3, topk_groups: 2 }, true), { s, b });
    expect(r.i).toEqual([4, 0]);
    close(r.v, [0.875, 0.75]); // topk's values are the biased, masked scores…
    close(r.w, [2.5 / 3, 5 / 3]); // …but the weights come from s
  });

  it('the group limit matters: without it the biased top-2 is experts 2 and 4 (0.875 each)', () => {
    expect(run(route({}, true), { s, b }).i).toEqual([2, 4]);
  });

  it('the bias matters: without it groups 0 (1.25) and 1 (1.0) win, and the top-2 is experts 2 and 0', () => {
    expect(run(route({ groups: 3, topk_groups: 2 }, false), { s, b }).i).toEqual([2, 0]);
  });

  it('masked experts score -∞ (transformers 5.17 masked_fill(~mask, -inf)): they never beat negative scores', () => {
    // c = [-0.25, -0.5 | -1, -2]: group scores [-0.75, -3] → keep group 0; masked [-0.25, -0.5, -∞, -∞]
    // top-1 is expert 0 (-0.25): a 0.0 mask would wrongly have picked expert 2.
    const [v, i] = kernels.topk!([f32([4], [-0.25, -0.5, -1, -2])], { k: 1, groups: 2, topk_groups: 1 }, { sizes: {}, outShapes: [] });
    expect(Array.from(i!.data)).toEqual([0]);
    expect(Array.from(v!.data)).toEqual([-0.25]);
  });
});

describe('Switch capacity and token dropping', () => {
  // 5 tokens x_t = [2t + 1, 2t + 2], top-1 routes [0, 0, 0, 1, 0], 2 experts, gate weights w.
  const x = f32([5, 2], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  const e = i32([5, 1], [0, 0, 0, 1, 0]);
  const w = f32([5, 1], [0.5, 0.25, 1, 2, 1]);
  // Expert weights [2, 2, 2]: expert 0 doubles (2·I), expert 1 negates (-I).
  const experts = f32([2, 2, 2], [2, 0, 0, 2, -1, 0, 0, -1]);
  const moe = (attrs: Record<string, Attr>) => graph({ x: ['f32', [5, 2]], e: ['i32', [5, 1]], w: ['f32', [5, 1]], we: ['f32', [2, 2, 2]] }, [
    ['dispatch', ['%x', '%e'], ['%rows', '%offsets', '%slots'], { experts: 2, ...attrs }],
    ['combine', ['%rows', '%slots', '%w'], ['%y']],
    ['grouped_linear', ['%rows', '%we', '%offsets'], ['%h']],
    ['combine', ['%h', '%slots', '%w'], ['%z']],
  ], ['%rows', '%offsets', '%slots', '%y', '%z']);
  const feeds = { x, e, w, we: experts };

  it('capacity 2: tokens 2 and 4 overflow expert 0, get slot -1, and their output rows are zero', () => {
    const r = run(moe({ capacity: 2 }), feeds);
    // expert 0 keeps tokens 0, 1 (rows 0, 1); expert 1 keeps token 3 (row 2); rows 3, 4 unused (zero)
    expect(r.offsets).toEqual([0, 2, 3]);
    expect(r.slots).toEqual([0, 1, -1, 2, -1]);
    expect(r.rows).toEqual([1, 2, 3, 4, 7, 8, 0, 0, 0, 0]);
    // combine of the rows themselves: w_t · x_t for kept tokens, 0 for dropped ones
    expect(r.y).toEqual([0.5, 1, 0.75, 1, 0, 0, 14, 16, 0, 0]);
    // through the experts: token 0 → 0.5·2·[1, 2]; token 1 → 0.25·2·[3, 4]; token 3 → 2·(-[7, 8])
    expect(r.z).toEqual([1, 2, 1.5, 2, 0, 0, -14, -16, 0, 0]);
  });

  it('capacity counted within groups of group_size tokens: groups {0, 1, 2}, {3, 4}', () => {
    // group 0: expert 0 keeps tokens 0, 1 and drops token 2; group 1: token 3 → expert 1, token 4 → expert 0 (its
    // first copy in this group). Sorted by expert in token order: expert 0 = tokens 0, 1, 4 (rows 0-2), expert 1 =
    // token 3 (row 3).
    for (const groupSize of [3, 'seq']) {
      const r = run(moe({ capacity: 2, group_size: groupSize }), feeds, { seq: 3 });
      expect(r.slots).toEqual([0, 1, -1, 3, 2]);
      expect(r.offsets).toEqual([0, 3, 4]);
      expect(r.y).toEqual([0.5, 1, 0.75, 1, 0, 0, 14, 16, 9, 10]);
    }
  });

  it('capacity_factor: ceil(5 tokens · 1 · 0.8 / 2 experts) = 2 slots, the same drops as capacity 2', () => {
    expect(run(moe({ capacity_factor: 0.8 }), feeds).slots).toEqual([0, 1, -1, 2, -1]);
  });

  it('dropless without a capacity: every copy gets a row', () => {
    expect(run(moe({}), feeds).slots).toEqual([0, 1, 2, 4, 3]);
  });

  it('top-2: a stable counting sort by expert, in token order then choice order', () => {
    // copies (t, j) → e: (0,0)→1 (0,1)→0 (1,0)→0 (1,1)→2 (2,0)→2 (2,1)→1
    // expert 0: (0,1), (1,0) → rows 0, 1; expert 1: (0,0), (2,1) → rows 2, 3; expert 2: (1,1), (2,0) → rows 4, 5
    const [rows, offsets, slots] = kernels.dispatch!([f32([3, 1], [10, 20, 30]), i32([3, 2], [1, 0, 0, 2, 2, 1])], { experts: 3 }, { sizes: {}, outShapes: [] });
    expect(Array.from(offsets!.data)).toEqual([0, 2, 4, 6]);
    expect(Array.from(slots!.data)).toEqual([2, 0, 1, 4, 5, 3]);
    expect(Array.from(rows!.data)).toEqual([10, 20, 10, 30, 20, 30]);
  });

  it('an empty choice (-1) gets slot -1; an expert index out of range is an error', () => {
    const [, , slots] = kernels.dispatch!([f32([2, 1], [1, 2]), i32([2, 1], [-1, 0])], { experts: 1 }, { sizes: {}, outShapes: [] });
    expect(Array.from(slots!.data)).toEqual([-1, 0]);
    expect(() => kernels.dispatch!([f32([1, 1], [1]), i32([1, 1], [2])], { experts: 2 }, { sizes: {}, outShapes: [] })).toThrow(/expert index 2 is out of range for 2/);
  });

  it('grouped_linear refuses offsets that are not non-decreasing within the rows', () => {
    expect(() => kernels.grouped_linear!([f32([2, 2], [1, 2, 3, 4]), experts, i32([3], [0, 2, 1])], {}, { sizes: {}, outShapes: [] })).toThrow(/not non-decreasing/);
  });
});

describe('Expert Choice from ops: topk over transposed scores, gather_rows, expert_linear, scatter_add_rows', () => {
  it('each expert takes its 2 best tokens; a token may get two experts or none', () => {
    // scores s [4 tokens, 2 experts] = [[.9, .7], [.8, .2], [.1, .3], [.4, .6]]
    // sᵀ rows: expert 0 [.9, .8, .1, .4] → tokens 0, 1 (gates .9, .8); expert 1 [.7, .2, .3, .6] → tokens 0, 3 (.7, .6)
    // x = [[1, 0], [0, 1], [1, 1], [2, -1]]; w₀ = [[1, 1], [0, 1]] (y = [a + b, b]); w₁ = [[2, 0], [0, -1]] (y = [2a, -b])
    // expert 0: x₀ → [1, 0], x₁ → [1, 1]; gated: [.9, 0], [.8, .8]
    // expert 1: x₀ → [2, 0], x₃ → [4, 1]; gated: [1.4, 0], [2.4, .6]
    // scatter-add: token 0 = [.9 + 1.4, 0] = [2.3, 0]; token 1 = [.8, .8]; token 2 = [0, 0]; token 3 = [2.4, .6]
    const g = graph({ s: ['f32', ['tokens', 2]], x: ['f32', ['tokens', 2]], w: ['f32', [2, 2, 2]] }, [
      ['transpose', ['%s'], ['%st'], { perm: [1, 0] }],
      ['topk', ['%st'], ['%gate', '%tok'], { k: 2 }],
      ['gather_rows', ['%x', '%tok'], ['%xin']],
      ['expert_linear', ['%xin', '%w'], ['%xout']],
      ['reshape', ['%gate'], ['%gate3'], { shape: [2, 2, 1] }],
      ['mul', ['%xout', '%gate3'], ['%gated']],
      ['scatter_add_rows', ['%gated', '%tok'], ['%y'], { rows: 'tokens' }],
    ], ['%tok', '%y']);
    const r = run(g, {
      s: f32([4, 2], [0.9, 0.7, 0.8, 0.2, 0.1, 0.3, 0.4, 0.6]),
      x: f32([4, 2], [1, 0, 0, 1, 1, 1, 2, -1]),
      w: f32([2, 2, 2], [1, 1, 0, 1, 2, 0, 0, -1]),
    }, { tokens: 4 });
    expect(r.tok).toEqual([0, 1, 0, 3]);
    close(r.y, [2.3, 0, 0.8, 0.8, 0, 0, 2.4, 0.6]);
  });
});

describe('Hash Layers', () => {
  it('the balanced random map gives every expert ⌊V/E⌋ or ⌈V/E⌉ token ids', () => {
    for (const [vocab, experts, seed] of [[10, 3, 0], [100, 7, 1], [1000, 16, 42], [5, 8, 3], [32000, 64, 1234]] as const) {
      const counts = new Array<number>(experts).fill(0);
      for (const e of balancedHash(vocab, experts, seed)) counts[e]!++;
      for (const c of counts) expect([Math.floor(vocab / experts), Math.ceil(vocab / experts)]).toContain(c);
      expect(counts.reduce((a, b) => a + b, 0)).toBe(vocab);
    }
  });

  it('is a function of the seed: the same seed gives the same map, another seed another one', () => {
    expect(balancedHash(100, 4, 9)).toEqual(balancedHash(100, 4, 9));
    expect(balancedHash(100, 4, 9)).not.toEqual(balancedHash(100, 4, 10));
  });

  it('mulberry32 is the reference algorithm (Tommy Ettinger\'s public-domain JavaScript)', () => {
    // The original, verbatim apart from types, as every port must reproduce it.
    function original(a: number) {
      return function () {
        a |= 0; a = a + 0x6D2B79F5 | 0;
        let t = Math.imul(a ^ a >>> 15, 1 | a);
        t = t + Math.imul(t ^ t >>> 7, 61 | t) ^ t;
        return ((t ^ t >>> 14) >>> 0) / 4294967296;
      };
    }
    for (const seed of [0, 1, 42, 0x7fffffff, 123456789]) {
      const ours = mulberry32(seed);
      const theirs = original(seed);
      for (let i = 0; i < 100; i++) expect(ours()).toBe(theirs());
    }
  });

  it('hash_route: modulo is id mod experts; random looks the id up in the balanced map', () => {
    const ids = i32([2, 5], [0, 4, 8, 9, 3, 1, 2, 5, 6, 7]);
    const g = (method: string) => graph({ ids: ['i32', [2, 5]] }, [['hash_route', ['%ids'], ['%e'], { experts: 3, vocab: 10, method, seed: 5 }]], ['%e']);
    expect(run(g('modulo'), { ids }).e).toEqual([0, 1, 2, 0, 0, 1, 2, 2, 0, 1]);
    const table = hashRouteTable('random', 10, 3, 5);
    expect(run(g('random'), { ids }).e).toEqual(Array.from(ids.data, (id) => table[id]!));
    expect(() => run(g('sha1'), { ids })).toThrow(/method must be "modulo" or "random"/);
  });

  it('an id outside the vocabulary is an error', () => {
    expect(() => kernels.hash_route!([i32([1], [10])], { experts: 3, vocab: 10, method: 'modulo', seed: 0 }, { sizes: {}, outShapes: [] })).toThrow(/token id 10 is out of range for 10/);
  });
});
