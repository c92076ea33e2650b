// MoE semantics of the reference executor on cases worked out by hand. Each graph is written in the textual IR,
// typed by shape inference and run.
import { describe, expect, it } from 'vitest';
import { parseGraph } from '../../compiler/ir/parse.ts';
import { shapeInference } from '../../compiler/passes/shape-inference.ts';
import { execute, type Tensor } from '../../runtime/reference/index.ts';
import { balancedHash } from '../../runtime/reference/kernels/routing.ts';

function run(ir: string, inputs: Record<string, number[][]>, sizes: Record<string, number> = {}, params: Record<string, Tensor> = {}) {
  const g = shapeInference.run(parseGraph(ir));
  const feeds: Record<string, Tensor> = {};
  for (const i of g.inputs) {
    const rows = inputs[i.name]!;
    const flat = rows.flat();
    const shape = [rows.length, rows[0]!.length];
    feeds[i.name] = i.type.dtype === 'i32' ? { dtype: 'i32', shape, data: Int32Array.from(flat) } : { dtype: 'f32', shape, data: Float32Array.from(flat) };
  }
  const { outputs } = execute(g, (n) => params[n]!, feeds, sizes);
  return Object.fromEntries(Object.entries(outputs).map(([k, t]) => [k, Array.from(t.data)]));
}

const close = (got: number[], want: number[]) => {
  expect(got).toHaveLength(want.length);
  got.forEach((g, i) => expect(g).toBeCloseTo(want[i]!, 6));
};

describe('softmax top-k', () => {
  const ir = (normalize: boolean) => `graph g {
    input %p: f32[2, 3]
    %0, %1 = topk(%p) {k = 2}
    ${normalize ? '%2 = reduce_sum(%0) {axis = -1, keepdims = true}\n    %3 = div(%0, %2)' : '%3 = scale(%0) {factor = 1}'}
    output w = %3
    output i = %1
  }`;
  const probs = { p: [[0.1, 0.6, 0.3], [0.5, 0.25, 0.25]] };

  it('without renormalisation keeps the probabilities (OLMoE, Qwen1.5-MoE)', () => {
    const r = run(ir(false), probs);
    expect(r.i).toEqual([1, 2, 0, 1]); // a tie (0.25, 0.25) goes to the lower index
    close(r.w!, [0.6, 0.3, 0.5, 0.25]);
  });

  it('with renormalisation the k weights sum to one (Mixtral): 0.6/0.9, 0.3/0.9', () => {
    close(run(ir(true), probs).w!, [2 / 3, 1 / 3, 2 / 3, 1 / 3]);
  });
});

describe('DeepSeek-V3 sigmoid routing', () => {
  it('selects by biased scores within the best groups, weighs by unbiased scores', () => {
    // 8 experts in 4 groups of 2; 2 groups allowed; k = 2.
    // scores s = [.9 .1 | .5 .5 | .2 .95 | .3 .3], bias b = [0 0 | 0 0 | 0 0 | .5 .5]
    // biased c = [.9 .1 | .5 .5 | .2 .95 | .8 .8]; group scores (sum of top 2) = [1.0, 1.0, 1.15, 1.6]
    // best 2 groups: 3 (1.6) and 2 (1.15); masked c = [0 0 | 0 0 | .2 .95 | .8 .8] → top-2: expert 5 (.95), expert 6 (.8)
    // weights from s: [.95, .3] normalised → [.95/1.25, .3/1.25] = [.76, .24], times scale 2.5 → [1.9, 0.6]
    const r = run(`graph g {
      input %s: f32[1, 8]
      input %b: f32[1, 8]
      %0 = add(%s, %b)
      %1, %2 = topk(%0) {groups = 4, k = 2, topk_groups = 2}
      %3 = gather_last(%s, %2)
      %4 = reduce_sum(%3) {axis = -1, keepdims = true}
      %5 = div(%3, %4)
      %6 = scale(%5) {factor = 2.5}
      output w = %6
      output i = %2
    }`, { s: [[0.9, 0.1, 0.5, 0.5, 0.2, 0.95, 0.3, 0.3]], b: [[0, 0, 0, 0, 0, 0, 0.5, 0.5]] });
    expect(r.i).toEqual([5, 6]);
    close(r.w!, [1.9, 0.6]);
  });
});

describe('Switch capacity and token dropping', () => {
  const ir = (attrs: string) => `graph g {
    input %x: f32[5, 2]
    input %e: i32[5, 1]
    input %w: f32[5, 1]
    %0, %1, %2 = dispatch(%x, %e) {${attrs}}
    %3 = combine(%0, %2, %w)
    output rows = %0
    output offsets = %1
    output slots = %2
    output y = %3
  }`;
  const x = [[1, 1], [2, 2], [3, 3], [4, 4], [5, 5]];
  const routes = [[0], [0], [0], [1], [0]];
  const w = [[1], [1], [1], [1], [1]];

  it('capacity 2: tokens 2 and 4 overflow expert 0 and are dropped; their layer output is zero', () => {
    const r = run(ir('capacity = 2, experts = 2'), { x, e: routes, w });
    expect(r.offsets).toEqual([0, 2, 3]); // expert 0 keeps tokens 0 and 1, expert 1 keeps token 3
    expect(r.slots).toEqual([0, 1, -1, 2, -1]);
    expect(r.y).toEqual([1, 1, 2, 2, 0, 0, 4, 4, 0, 0]);
  });

  it('capacity from a factor: ceil(5 tokens × 1 × 1.0 / 2 experts) = 3 slots', () => {
    const r = run(ir('capacity_factor = 1.0, experts = 2'), { x, e: routes, w });
    expect(r.slots).toEqual([0, 1, 2, 3, -1]);
  });

  it('capacity counted per group of tokens (per sequence, as in Switch/Mesh TF)', () => {
    // groups {0,1}, {2,3}, {4}, capacity 1 per expert per group: token 1 is dropped (expert 0 is full in the first
    // group); rows sorted by expert: expert 0 gets tokens 0, 2, 4 (rows 0-2), expert 1 token 3 (row 3).
    const r = run(ir('capacity = 1, experts = 2, group_size = 2'), { x, e: routes, w });
    expect(r.slots).toEqual([0, -1, 1, 3, 2]);
  });

  it('dropless when no capacity is given: every token is computed', () => {
    expect(run(ir('experts = 2'), { x, e: routes, w }).slots).toEqual([0, 1, 2, 4, 3]);
  });
});

describe('Expert Choice', () => {
  it('each expert takes its top ceil(T·c/E) tokens; a token may get 0 or several experts', () => {
    // T = 4, E = 2, capacity factor 1 → each expert takes 2 tokens.
    const r = run(`graph g {
      input %p: f32[4, 2]
      %0, %1 = expert_choice(%p) {capacity_factor = 1.0}
      output w = %0
      output i = %1
    }`, { p: [[0.9, 0.1], [0.8, 0.2], [0.7, 0.3], [0.4, 0.6]] });
    // expert 0 takes tokens 0 (.9) and 1 (.8); expert 1 takes tokens 3 (.6) and 2 (.3)
    expect(r.i).toEqual([0, -1, 0, -1, -1, 1, -1, 1]);
    close(r.w!, [0.9, 0, 0.8, 0, 0, 0.3, 0, 0.6]);
    const perExpert = [0, 1].map((e) => r.i!.filter((v) => v === e).length);
    expect(perExpert).toEqual([2, 2]);
  });
});

describe('Hash Layers', () => {
  it('the balanced hash gives every expert ⌊V/E⌋ or ⌈V/E⌉ token ids', () => {
    const table = balancedHash(1000, 7, 42);
    const counts = new Array(7).fill(0);
    for (const e of table) counts[e]++;
    for (const c of counts) expect([142, 143]).toContain(c);
    expect(balancedHash(1000, 7, 42)).toEqual(table);
  });

  it('modulo hashing: id mod experts', () => {
    const r = run('graph g {\n input %ids: i32[1, 4]\n %0 = hash_route(%ids) {experts = 3, method = "modulo", seed = 0, vocab = 10}\n output e = %0\n}', { ids: [[0, 4, 8, 9]] });
    expect(r.e).toEqual([0, 1, 2, 0]);
  });
});

describe('Soft MoE', () => {
  it('dispatch weights are a softmax over tokens: each slot is a convex combination (weights sum to one)', () => {
    const r = run('graph g {\n input %l: f32[3, 2]\n %0 = softmax(%l) {axis = 0}\n %1 = reduce_sum(%0) {axis = 0}\n output s = %1\n}', { l: [[1, 5], [2, -1], [0.5, 3]] });
    close(r.s!, [1, 1]);
  });
});

describe('router losses', () => {
  it('load-balancing loss (Switch eq. 4 as HF computes it): 4 tokens, 2 experts', () => {
    // f = fraction routed to each expert = [3/4, 1/4]; P = mean probability = [0.65, 0.35]
    // loss = E · Σ f·P = 2 · (0.75·0.65 + 0.25·0.35) = 1.15
    const r = run('graph g {\n input %p: f32[4, 2]\n input %i: i32[4, 1]\n %0 = load_balance_loss(%p, %i) {experts = 2}\n output l = %0\n}', {
      p: [[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]], i: [[0], [0], [1], [0]],
    });
    close(r.l!, [1.15]);
  });

  it('top-2: the loss sums over both choices, so a perfectly balanced router gives k', () => {
    const r = run('graph g {\n input %p: f32[2, 2]\n input %i: i32[2, 2]\n %0 = load_balance_loss(%p, %i) {experts = 2}\n output l = %0\n}', {
      p: [[0.5, 0.5], [0.5, 0.5]], i: [[0, 1], [1, 0]],
    });
    close(r.l!, [2]);
  });

  it('router z-loss (ST-MoE eq. 5): mean of logsumexp²', () => {
    // rows: logsumexp([0,0]) = ln 2, logsumexp([ln 3, 0]) = ln 4; mean of squares = (ln²2 + ln²4)/2
    const r = run('graph g {\n input %x: f32[2, 2]\n %0 = z_loss(%x)\n output z = %0\n}', { x: [[0, 0], [Math.log(3), 0]] });
    close(r.z!, [(Math.log(2) ** 2 + Math.log(4) ** 2) / 2]);
  });
});
