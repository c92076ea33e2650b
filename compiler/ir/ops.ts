// The op set of the graph IR: for each op, its operands, attributes, result types and FLOPs.
// This table is the IR's documentation (docs/ir.md is written from it), the verifier's rule book and the source of `moec stats`.
import { addDims, dimsEqual, divDim, mulDims, normDim, numel } from './dims.ts';
import { ewOpCount, parseEw, type EwExpr } from './elementwise-expr.ts';
import type { Attr, Dim, DType, TensorType } from './types.ts';

export type AttrKind = 'int' | 'float' | 'bool' | 'string' | 'dim' | 'dims' | 'dtype';

export interface OpSpec {
  doc: string;
  /** Operand names; a trailing `?` marks an optional one, `...` a variadic list. */
  operands: string[];
  results: string[];
  attrs: Record<string, { kind: AttrKind; optional?: boolean }>;
  /** Result types from operand types, or a message saying what is wrong. */
  infer(ins: TensorType[], attrs: Record<string, Attr>): TensorType[] | string;
  /** Floating-point operations (a multiply-add counts 2); only matrix products are counted, as in Kaplan et al. 2020. */
  flops?(ins: TensorType[], outs: TensorType[], attrs: Record<string, Attr>): Dim;
}

const t = (dtype: DType, shape: Dim[]): TensorType => ({ dtype, shape: shape.map(normDim) });
const fmt = (s: readonly Dim[]) => `[${s.join(', ')}]`;
const last = (s: readonly Dim[]) => s[s.length - 1]!;
const isFloat = (d: DType) => d === 'f32' || d === 'f16' || d === 'bf16';
const isInt = (d: DType) => d === 'i32' || d === 'i64';
const int = (a: Attr | undefined, fallback = 0): number => (typeof a === 'number' ? a : fallback);

function axisOf(rank: number, a: Attr | undefined, fallback = -1): number | string {
  const axis = int(a, fallback);
  const n = axis < 0 ? rank + axis : axis;
  return n >= 0 && n < rank ? n : `axis ${axis} is out of range for rank ${rank}`;
}

/** NumPy broadcasting, with symbolic dimensions equal only when their canonical forms are. */
export function broadcast(a: readonly Dim[], b: readonly Dim[]): Dim[] | string {
  const n = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (dimsEqual(x, y) || y === 1) out.push(x);
    else if (x === 1) out.push(y);
    else return `shapes ${fmt(a)} and ${fmt(b)} do not broadcast`;
  }
  return out;
}

const unary = (doc: string): OpSpec => ({
  doc, operands: ['x'], results: ['y'], attrs: {},
  infer: ([x]) => (isFloat(x!.dtype) ? [x!] : `expects a float tensor, got ${x!.dtype}`),
});

const binary = (doc: string): OpSpec => ({
  doc, operands: ['a', 'b'], results: ['y'], attrs: {},
  infer: ([a, b]) => {
    if (a!.dtype !== b!.dtype) return `operand types differ: ${a!.dtype} and ${b!.dtype}`;
    const s = broadcast(a!.shape, b!.shape);
    return typeof s === 'string' ? s : [t(a!.dtype, s)];
  },
});

const reduce = (doc: string): OpSpec => ({
  doc, operands: ['x'], results: ['y'], attrs: { axis: { kind: 'int' }, keepdims: { kind: 'bool', optional: true } },
  infer: ([x], at) => {
    const axis = axisOf(x!.shape.length, at.axis);
    if (typeof axis === 'string') return axis;
    const shape = x!.shape.filter((_, i) => i !== axis);
    if (at.keepdims === true) shape.splice(axis, 0, 1);
    return [t(x!.dtype, shape)];
  },
});

export const ops: Record<string, OpSpec> = {
  // ---- values -------------------------------------------------------------------------------
  const: {
    doc: 'A scalar constant.', operands: [], results: ['y'], attrs: { value: { kind: 'float' }, dtype: { kind: 'dtype' } },
    infer: (_, at) => [t(at.dtype as DType, [])],
  },
  arange: {
    doc: 'The integers 0 … n-1 (positions).', operands: [], results: ['y'], attrs: { n: { kind: 'dim' } },
    infer: (_, at) => [t('i32', [at.n as Dim])],
  },
  dft: {
    doc: 'The DFT matrix F_n = C − i·S as its two real parts (FNet, Lee-Thorp et al. 2022, §3.2): y[j, k] = cos(2π·jk/n) (part = cos) or sin(2π·jk/n) (part = sin) → f32 [n, n], the angle from (j·k mod n) so it stays exact for large n.',
    operands: [], results: ['y'], attrs: { n: { kind: 'dim' }, part: { kind: 'string' } },
    infer: (_, at) => (at.part === 'cos' || at.part === 'sin' ? [t('f32', [at.n as Dim, at.n as Dim])] : `part must be cos or sin, got ${String(at.part)}`),
  },
  cast: {
    doc: 'Converts to another dtype.', operands: ['x'], results: ['y'], attrs: { dtype: { kind: 'dtype' } },
    infer: ([x], at) => [t(at.dtype as DType, x!.shape)],
  },
  // ---- elementwise ----------------------------------------------------------------------------
  relu: unary('max(x, 0).'),
  gelu: unary('x·Φ(x) with the exact normal CDF (erf).'),
  gelu_tanh: unary('The tanh approximation of GELU: 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³))).'),
  silu: unary('x·sigmoid(x) (Swish).'),
  sigmoid: unary('1 / (1 + e^-x).'),
  tanh: unary('tanh(x).'),
  exp: unary('e^x.'),
  log: unary('ln(x).'),
  neg: unary('-x.'),
  sqrt: unary('√x.'),
  rsqrt: unary('1/√x.'),
  square: unary('x².'),
  scale: {
    doc: 'x · factor for a constant factor.', operands: ['x'], results: ['y'], attrs: { factor: { kind: 'float' } },
    infer: ([x]) => [x!],
  },
  add: binary('a + b, broadcasting.'),
  sub: binary('a - b, broadcasting.'),
  mul: binary('a · b, broadcasting.'),
  div: binary('a / b, broadcasting.'),
  maximum: binary('max(a, b), broadcasting.'),
  // ---- reductions and normalisations -----------------------------------------------------------
  reduce_sum: reduce('Sum over one axis.'),
  reduce_mean: reduce('Mean over one axis.'),
  reduce_max: reduce('Maximum over one axis.'),
  logsumexp: reduce('log Σ e^x over one axis, computed stably (max-shifted).'),
  softmax: {
    doc: 'e^x / Σ e^x over one axis (default the last), computed in f32.', operands: ['x'], results: ['y'], attrs: { axis: { kind: 'int', optional: true } },
    infer: ([x], at) => {
      const axis = axisOf(x!.shape.length, at.axis);
      return typeof axis === 'string' ? axis : [x!];
    },
  },
  rms_norm: {
    doc: 'x / √(mean(x²) + eps) · w over the last axis, in f32 (Zhang & Sennrich 2019).',
    operands: ['x', 'w'], results: ['y'], attrs: { eps: { kind: 'float' } },
    infer: ([x, w]) => (w!.shape.length === 1 && dimsEqual(w!.shape[0]!, last(x!.shape)) ? [x!] : `weight ${fmt(w!.shape)} does not match the last axis of ${fmt(x!.shape)}`),
  },
  layer_norm: {
    doc: '(x - mean) / √(var + eps) · w + b over the last axis (Ba et al. 2016).',
    operands: ['x', 'w', 'b?'], results: ['y'], attrs: { eps: { kind: 'float' } },
    infer: ([x, w, b]) => {
      for (const p of [w, b]) if (p && !(p.shape.length === 1 && dimsEqual(p.shape[0]!, last(x!.shape)))) return `parameter ${fmt(p.shape)} does not match the last axis of ${fmt(x!.shape)}`;
      return [x!];
    },
  },
  // ---- shapes ----------------------------------------------------------------------------------
  reshape: {
    doc: 'Same elements, new shape.', operands: ['x'], results: ['y'], attrs: { shape: { kind: 'dims' } },
    infer: ([x], at) => {
      const shape = at.shape as Dim[];
      const a = mulDims(1, ...x!.shape);
      const b = mulDims(1, ...shape);
      return dimsEqual(a, b) ? [t(x!.dtype, shape)] : `cannot reshape ${fmt(x!.shape)} (${a} elements) to ${fmt(shape)} (${b} elements)`;
    },
  },
  transpose: {
    doc: 'Permutes the axes: result axis i is input axis perm[i].', operands: ['x'], results: ['y'], attrs: { perm: { kind: 'dims' } },
    infer: ([x], at) => {
      const perm = at.perm as number[];
      const rank = x!.shape.length;
      if (perm.length !== rank || [...perm].sort((p, q) => p - q).some((p, i) => p !== i)) return `perm ${fmt(perm)} is not a permutation of ${rank} axes`;
      return [t(x!.dtype, perm.map((p) => x!.shape[p]!))];
    },
  },
  expand: {
    doc: 'Broadcasts axes of size 1 to the given shape (no copy implied).', operands: ['x'], results: ['y'], attrs: { shape: { kind: 'dims' } },
    infer: ([x], at) => {
      const shape = at.shape as Dim[];
      const b = broadcast(x!.shape, shape);
      return typeof b === 'string' || b.length !== shape.length || b.some((d, i) => !dimsEqual(d, shape[i]!)) ? `cannot expand ${fmt(x!.shape)} to ${fmt(shape)}` : [t(x!.dtype, shape)];
    },
  },
  slice: {
    doc: 'Elements start … end-1 along one axis.', operands: ['x'], results: ['y'], attrs: { axis: { kind: 'int' }, start: { kind: 'int' }, end: { kind: 'int' } },
    infer: ([x], at) => {
      const axis = axisOf(x!.shape.length, at.axis);
      if (typeof axis === 'string') return axis;
      const start = int(at.start);
      const end = int(at.end);
      const n = x!.shape[axis]!;
      if (!(start >= 0 && end > start && (typeof n !== 'number' || end <= n))) return `slice ${start}:${end} is out of range for a dimension of ${n}`;
      const shape = [...x!.shape];
      shape[axis] = end - start;
      return [t(x!.dtype, shape)];
    },
  },
  concat: {
    doc: 'Joins tensors along one axis.', operands: ['xs...'], results: ['y'], attrs: { axis: { kind: 'int' } },
    infer: (xs, at) => {
      const axis = axisOf(xs[0]!.shape.length, at.axis);
      if (typeof axis === 'string') return axis;
      for (const x of xs) {
        if (x.shape.length !== xs[0]!.shape.length || x.shape.some((d, i) => i !== axis && !dimsEqual(d, xs[0]!.shape[i]!))) {
          return `cannot concatenate ${fmt(xs[0]!.shape)} and ${fmt(x.shape)} along axis ${axis}`;
        }
      }
      const shape = [...xs[0]!.shape];
      let total: Dim | undefined = xs[0]!.shape[axis]!;
      for (const x of xs.slice(1)) total = total === undefined ? undefined : addDims(total, x.shape[axis]!);
      if (total === undefined) return `cannot concatenate dimensions ${xs.map((x) => x.shape[axis]).join(' + ')}: they are not multiples of the same sizes`;
      shape[axis] = total;
      return [t(xs[0]!.dtype, shape)];
    },
  },
  // ---- matrix products -------------------------------------------------------------------------
  embedding: {
    doc: 'Rows of a table picked by integer ids: y[..., :] = table[ids[...], :].', operands: ['ids', 'table'], results: ['y'], attrs: {},
    infer: ([ids, table]) => (isInt(ids!.dtype) && table!.shape.length === 2 ? [t(table!.dtype, [...ids!.shape, table!.shape[1]!])] : 'expects integer ids and a 2-D table'),
  },
  linear: {
    doc: 'x · wᵀ (+ b), with w stored [out, in] as in PyTorch; `act` applies an activation in the epilogue.', operands: ['x', 'w', 'b?'], results: ['y'], attrs: { act: { kind: 'string', optional: true } },
    infer: ([x, w, b]) => {
      if (w!.shape.length !== 2 || !dimsEqual(w!.shape[1]!, last(x!.shape))) return `weight ${fmt(w!.shape)} does not take inputs of width ${last(x!.shape)} (from ${fmt(x!.shape)})`;
      if (b && !(b.shape.length === 1 && dimsEqual(b.shape[0]!, w!.shape[0]!))) return `bias ${fmt(b.shape)} does not match ${w!.shape[0]} outputs`;
      return [t(x!.dtype, [...x!.shape.slice(0, -1), w!.shape[0]!])];
    },
    flops: ([x, w]) => mulDims(2, ...x!.shape.slice(0, -1), w!.shape[0]!, w!.shape[1]!),
  },
  matmul: {
    doc: 'Batched a · b (or a · bᵀ with transpose_b) over the last two axes.', operands: ['a', 'b'], results: ['y'], attrs: { transpose_b: { kind: 'bool', optional: true } },
    infer: ([a, b], at) => {
      const tb = at.transpose_b === true;
      const [m, k] = a!.shape.slice(-2);
      const [k2, n] = tb ? [...b!.shape.slice(-2)].reverse() : b!.shape.slice(-2);
      if (a!.shape.length < 2 || b!.shape.length < 2 || !dimsEqual(k!, k2!)) return `inner dimensions differ: ${fmt(a!.shape)} · ${fmt(b!.shape)}${tb ? 'ᵀ' : ''}`;
      const batch = broadcast(a!.shape.slice(0, -2), b!.shape.slice(0, -2));
      return typeof batch === 'string' ? batch : [t(a!.dtype, [...batch, m!, n!])];
    },
    flops: ([a], [y]) => mulDims(2, ...y!.shape, last(a!.shape)),
  },
  rope: {
    doc: 'Rotary position embedding of x [batch, seq, heads, head_dim] at positions 0 … seq-1: the first rotary_dim dimensions of each head rotated by angles pos·theta^(-2i/rotary_dim), as halves (Llama) or interleaved pairs (GPT-J).',
    operands: ['x'], results: ['y'], attrs: { theta: { kind: 'float' }, rotary_dim: { kind: 'int' }, interleaved: { kind: 'bool' } },
    infer: ([x], at) => (x!.shape.length === 4 && typeof last(x!.shape) === 'number' && int(at.rotary_dim) <= (last(x!.shape) as number) ? [x!] : `expects [batch, seq, heads, head_dim] with rotary_dim ≤ head_dim, got ${fmt(x!.shape)}`),
  },
  relative_bias: {
    doc: 'T5 relative position bias: table [buckets, heads] looked up by the bucket of (key position - query position) → [1, heads, q_len, k_len].',
    operands: ['table'], results: ['y'],
    attrs: { bidirectional: { kind: 'bool' }, max_distance: { kind: 'int' }, q_len: { kind: 'dim' }, k_len: { kind: 'dim' } },
    infer: ([table], at) => [t(table!.dtype, [1, table!.shape[1]!, at.q_len as Dim, at.k_len as Dim])],
  },
  attention: {
    doc: 'softmax(scale · q·kᵀ + bias [+ causal mask]) · v per head, q [batch, q_len, heads, d], k [batch, k_len, kv_heads, d], v [batch, k_len, kv_heads, dv]; query head h reads kv head h / (heads / kv_heads). With rope_* attributes, q and k are first rotated as the rope op does (fused by fuse-attention).',
    operands: ['q', 'k', 'v', 'bias?'], results: ['y'],
    attrs: {
      causal: { kind: 'bool' }, scale: { kind: 'float' },
      rope_theta: { kind: 'float', optional: true }, rope_rotary_dim: { kind: 'int', optional: true }, rope_interleaved: { kind: 'bool', optional: true },
    },
    infer: ([q, k, v, bias]) => {
      if (q!.shape.length !== 4 || k!.shape.length !== 4 || v!.shape.length !== 4) return 'q, k and v must be [batch, len, heads, head_dim]';
      const [b, sq, h, d] = q!.shape;
      const [, sk, hk, dk] = k!.shape;
      if (!dimsEqual(d!, dk!)) return `q and k head widths differ: ${d} and ${dk}`;
      if (!divDim(h!, hk!)) return `kv heads (${hk}) do not divide query heads (${h})`;
      if (!dimsEqual(v!.shape[1]!, sk!) || !dimsEqual(v!.shape[2]!, hk!)) return `v ${fmt(v!.shape)} does not match k ${fmt(k!.shape)}`;
      if (bias && typeof broadcast(bias.shape, [b!, h!, sq!, sk!]) === 'string') return `bias ${fmt(bias.shape)} does not broadcast to [${b}, ${h}, ${sq}, ${sk}]`;
      return [t(q!.dtype, [b!, sq!, h!, last(v!.shape)])];
    },
    flops: ([q, k, v], _, at) => {
      const [b, sq, h, d] = q!.shape;
      const sk = k!.shape[1]!;
      // A causal kernel computes only the lower triangle: sq·(sq+1)/2 query-key pairs.
      const pairs = at.causal === true && typeof sq === 'number' ? (sq * (sq + 1)) / 2 : mulDims(sq!, sk);
      // Head widths are numbers (they come from the spec), so q·k and p·v widths add up.
      return mulDims(2, b!, h!, pairs, addDims(d!, last(v!.shape)) ?? Number(d) + Number(last(v!.shape)));
    },
  },
  // ---- routing ---------------------------------------------------------------------------------
  topk: {
    doc: 'The k largest values of the last axis and their indices, largest first (ties: lower index first). With groups > 1 (DeepSeek-V3): experts form groups, a group scores the sum of its two best, only the experts of the topk_groups best groups are eligible (the others are masked to -inf).',
    operands: ['x'], results: ['values', 'indices'],
    attrs: { k: { kind: 'int' }, groups: { kind: 'int', optional: true }, topk_groups: { kind: 'int', optional: true } },
    infer: ([x], at) => {
      const k = int(at.k);
      const n = last(x!.shape);
      if (typeof n === 'number' && k > n) return `k = ${k} exceeds the axis of ${n}`;
      const shape = [...x!.shape.slice(0, -1), k];
      return [t(x!.dtype, shape), t('i32', shape)];
    },
  },
  product_topk: {
    doc: 'Product-key top-k (Lample et al. 2019, §3.2; PEER, He 2024, §2): s1 [..., n1] and s2 [..., n2] score the two halves of a query against two sub-key tables; of the k × k sums s1[a] + s2[b] over the k best a of s1 and the k best b of s2 (each chosen as topk does), the k largest, largest first, with indices a · n2 + b (ties: lower index first). No FLOPs are counted: the sub-key scores are the linear ops before it.',
    operands: ['s1', 's2'], results: ['values', 'indices'], attrs: { k: { kind: 'int' } },
    infer: ([s1, s2], at) => {
      const k = int(at.k);
      const [n1, n2] = [last(s1!.shape), last(s2!.shape)];
      const lead = s1!.shape.slice(0, -1);
      if (s1!.dtype !== s2!.dtype || !isFloat(s1!.dtype)) return `expects two float tensors of one dtype, got ${s1!.dtype} and ${s2!.dtype}`;
      if (lead.length !== s2!.shape.length - 1 || lead.some((d, i) => !dimsEqual(d, s2!.shape[i]!))) return `s1 ${fmt(s1!.shape)} and s2 ${fmt(s2!.shape)} differ in their leading axes`;
      if (k < 1 || [n1, n2].some((n) => typeof n === 'number' && k > n)) return `k = ${k} is out of range for sub-key axes of ${n1} and ${n2}`;
      const shape = [...lead, k];
      return [t(s1!.dtype, shape), t('i32', shape)];
    },
  },
  gather_last: {
    doc: 'y[..., j] = x[..., indices[..., j]] (take along the last axis).', operands: ['x', 'indices'], results: ['y'], attrs: {},
    infer: ([x, idx]) => [t(x!.dtype, idx!.shape)],
  },
  hash_route: {
    doc: 'Hash Layers: a fixed expert per token id, ids mod experts or a seeded balanced random map → i32 [..., 1].',
    operands: ['ids'], results: ['indices'], attrs: { experts: { kind: 'int' }, vocab: { kind: 'int' }, method: { kind: 'string' }, seed: { kind: 'int' } },
    infer: ([ids]) => [t('i32', [mulDims(1, ...ids!.shape), 1])],
  },
  dispatch: {
    doc: 'Sorts token copies by expert (a stable counting sort in token order, then choice order): rows grouped by expert, offsets [experts+1] where expert e owns rows offsets[e] … offsets[e+1]-1, and slots [tokens, k] giving the row of each (token, choice), or -1 when the choice is empty (index -1) or dropped. With a capacity c (capacity, or ceil(group tokens · k · capacity_factor / experts)) an expert keeps its first c copies in token order within each group of group_size tokens (default: all tokens) and drops the rest (Switch Transformer §2.2). rows has tokens · rows_per_token rows (default k); rows past offsets[experts] are zero.',
    operands: ['x', 'indices'], results: ['rows', 'offsets', 'slots'],
    attrs: {
      experts: { kind: 'int' }, capacity: { kind: 'int', optional: true }, capacity_factor: { kind: 'float', optional: true },
      group_size: { kind: 'dim', optional: true }, rows_per_token: { kind: 'int', optional: true },
    },
    infer: ([x, idx], at) => {
      if (!dimsEqual(x!.shape[0]!, idx!.shape[0]!)) return `x has ${x!.shape[0]} tokens but indices has ${idx!.shape[0]}`;
      const perToken = typeof at.rows_per_token === 'number' ? at.rows_per_token : idx!.shape[1]!;
      return [t(x!.dtype, [mulDims(idx!.shape[0]!, perToken), last(x!.shape)]), t('i32', [int(at.experts) + 1]), t('i32', idx!.shape)];
    },
  },
  expert_choice: {
    doc: 'Expert Choice routing (Zhou et al. 2022): each expert e takes the c = ceil(tokens · capacity_factor / experts) tokens with the largest probs[t, e] (ties: lower token first), at most floor(tokens · ceil(capacity_factor) / experts) (fewer tokens than experts: the rows the dispatch has room for). Returns weights and indices [tokens, experts]: slot e of token t holds e and probs[t, e] if expert e chose t, else -1 and 0.',
    operands: ['probs'], results: ['weights', 'indices'], attrs: { capacity_factor: { kind: 'float' } },
    infer: ([p]) => [p!, t('i32', p!.shape)],
  },
  random_second: {
    doc: 'GShard random routing (Lepikhin et al. 2021, Algorithm 1): with top-2 weights w and indices i, the second expert is kept only when 2 · w[t, 1] / (w[t, 0] + w[t, 1]) exceeds a uniform coin; otherwise its index becomes -1 (an empty choice) and its weight 0. Token t tosses coin t mod 4096 of mulberry32(seed).',
    operands: ['weights', 'indices'], results: ['weights', 'indices'], attrs: { seed: { kind: 'int' } },
    infer: ([w, idx]) => (w!.shape.length === 2 && w!.shape[1] === 2 && dimsEqual(w!.shape[0]!, idx!.shape[0]!) && idx!.shape[1] === 2 ? [w!, idx!] : `random_second takes top-2 weights and indices [tokens, 2], got ${fmt(w!.shape)} and ${fmt(idx!.shape)}`),
  },
  all_to_all_dispatch: {
    doc: 'Expert parallelism, the collective before the experts: `ranks` ranks each hold experts / ranks consecutive experts (rank r: r·L … r·L+L-1, L = experts / ranks). Every rank sends the rows it sorted for each expert (rows [n, d] grouped by offsets [experts+1]) to the rank that holds it. Results: the rows this rank received, grouped by local expert and within one by source rank then source order (recv [ranks·n, d], zero past recv_offsets[L]), recv_offsets [L+1], and counts [ranks, L] (rows from rank p for local expert l), which all_to_all_combine needs to send the results back.',
    operands: ['rows', 'offsets'], results: ['recv', 'recv_offsets', 'counts'], attrs: { experts: { kind: 'int' }, ranks: { kind: 'int' } },
    infer: ([rows, off], at) => {
      const E = int(at.experts);
      const R = int(at.ranks);
      if (!(R >= 1 && E % R === 0)) return `${R} ranks do not split ${E} experts evenly`;
      if (off!.shape.length !== 1 || off!.shape[0] !== E + 1) return `offsets ${fmt(off!.shape)} are not [experts + 1] = [${E + 1}]`;
      return [t(rows!.dtype, [mulDims(R, rows!.shape[0]!), last(rows!.shape)]), t('i32', [E / R + 1]), t('i32', [R, E / R])];
    },
  },
  all_to_all_combine: {
    doc: 'Expert parallelism, the collective after the experts: sends each received row\'s result back to the rank it came from (out [ranks·n, d] in all_to_all_dispatch\'s recv order, with its counts), so that every rank gets its rows back in the order it sorted them (y [n, d] as grouped by its offsets [experts+1]; zero past offsets[experts]).',
    operands: ['out', 'offsets', 'counts'], results: ['y'], attrs: { experts: { kind: 'int' }, ranks: { kind: 'int' } },
    infer: ([out, off, counts], at) => {
      const R = int(at.ranks);
      const n = divDim(out!.shape[0]!, R);
      if (n === undefined) return `${out!.shape[0]} rows are not ranks × rows`;
      if (off!.shape[0] !== int(at.experts) + 1 || counts!.shape[0] !== R) return `offsets ${fmt(off!.shape)} or counts ${fmt(counts!.shape)} do not match ${at.experts} experts on ${R} ranks`;
      return [t(out!.dtype, [n, last(out!.shape)])];
    },
  },
  grouped_linear: {
    doc: 'Per-expert linear over sorted rows: rows offsets[e] … offsets[e+1]-1 are multiplied by w[e]ᵀ (w [experts, out, in]) plus b[e] when given (b [experts, out]), then `act` if given; one grouped matmul for all experts. Rows past offsets[experts] are unspecified: combine never reads them (the reference executor writes zeros; compiled targets skip them, as differential testing found).',
    operands: ['rows', 'w', 'offsets', 'b?'], results: ['y'], attrs: { act: { kind: 'string', optional: true } },
    infer: ([x, w]) => (w!.shape.length === 3 && dimsEqual(w!.shape[2]!, last(x!.shape)) ? [t(x!.dtype, [x!.shape[0]!, w!.shape[1]!])] : `expert weights ${fmt(w!.shape)} do not take rows of width ${last(x!.shape)}`),
    flops: ([x, w]) => mulDims(2, x!.shape[0]!, w!.shape[1]!, w!.shape[2]!),
  },
  gated_linear: {
    doc: 'The gated FFN up-projection as one matmul (Shazeer 2020): act(x · wgᵀ) ⊙ (x · wuᵀ), both projections read x once.',
    operands: ['x', 'wg', 'wu'], results: ['y'], attrs: { act: { kind: 'string' } },
    infer: ([x, wg, wu]) => {
      if (wg!.shape.length !== 2 || !dimsEqual(wg!.shape[1]!, last(x!.shape)) || !wu!.shape.every((d, i) => dimsEqual(d, wg!.shape[i]!))) return `gate ${fmt(wg!.shape)} and up ${fmt(wu!.shape)} weights do not take inputs of width ${last(x!.shape)}`;
      return [t(x!.dtype, [...x!.shape.slice(0, -1), wg!.shape[0]!])];
    },
    flops: ([x, w]) => mulDims(4, ...x!.shape.slice(0, -1), w!.shape[0]!, w!.shape[1]!),
  },
  gated_grouped_linear: {
    doc: 'gated_linear per expert over rows sorted by expert: rows of expert e get act(r · wg[e]ᵀ) ⊙ (r · wu[e]ᵀ).',
    operands: ['rows', 'wg', 'wu', 'offsets'], results: ['y'], attrs: { act: { kind: 'string' } },
    infer: ([x, wg]) => (wg!.shape.length === 3 && dimsEqual(wg!.shape[2]!, last(x!.shape)) ? [t(x!.dtype, [x!.shape[0]!, wg!.shape[1]!])] : `expert weights ${fmt(wg!.shape)} do not take rows of width ${last(x!.shape)}`),
    flops: ([x, w]) => mulDims(4, x!.shape[0]!, w!.shape[1]!, w!.shape[2]!),
  },
  elementwise: {
    doc: 'A chain of elementwise ops as one kernel (fuse-elementwise): `expr` applies them to the operands $0 … $n, e.g. "add($0, scale($1, 0.5))"; operands broadcast to the result.',
    operands: ['xs...'], results: ['y'], attrs: { expr: { kind: 'string' } },
    infer: (xs, at) => {
      let expr: EwExpr;
      try {
        expr = parseEw(String(at.expr));
      } catch (e) {
        return (e as Error).message;
      }
      const used = new Set<number>();
      const visit = (e: EwExpr): void => ('input' in e ? void used.add(e.input) : e.args.forEach(visit));
      visit(expr);
      if ([...used].some((j) => j >= xs.length) || used.size !== xs.length) return `expr "${String(at.expr)}" must use each of the ${xs.length} operands`;
      if (xs.some((x) => !isFloat(x.dtype) || x.dtype !== xs[0]!.dtype)) return 'operands must be float tensors of one dtype';
      let shape: Dim[] = xs[0]!.shape;
      for (const x of xs.slice(1)) {
        const s = broadcast(shape, x.shape);
        if (typeof s === 'string') return s;
        shape = s;
      }
      return [t(xs[0]!.dtype, shape)];
    },
    flops: (_xs, outs, at) => mulDims(ewOpCount(parseEw(String(at.expr))), numel(outs[0]!.shape)),
  },
  linear_add: {
    doc: 'x · wᵀ + r: a projection with the residual add in its epilogue.',
    operands: ['x', 'w', 'r'], results: ['y'], attrs: {},
    infer: ([x, w, r]) => {
      if (w!.shape.length !== 2 || !dimsEqual(w!.shape[1]!, last(x!.shape))) return `weight ${fmt(w!.shape)} does not take inputs of width ${last(x!.shape)}`;
      const shape = [...x!.shape.slice(0, -1), w!.shape[0]!];
      return r!.shape.length === shape.length && r!.shape.every((d, i) => dimsEqual(d, shape[i]!)) ? [t(x!.dtype, shape)] : `residual ${fmt(r!.shape)} does not match ${fmt(shape)}`;
    },
    flops: ([x, w]) => mulDims(2, ...x!.shape.slice(0, -1), w!.shape[0]!, w!.shape[1]!),
  },
  softmax_topk: {
    doc: 'The router in one kernel: probs = softmax(logits) over experts, the k largest with their indices, renormalised to sum to one when `normalize`.',
    operands: ['logits'], results: ['probs', 'weights', 'indices'], attrs: { k: { kind: 'int' }, normalize: { kind: 'bool' } },
    infer: ([x], at) => {
      const shape = [...x!.shape.slice(0, -1), int(at.k)];
      return [x!, t(x!.dtype, shape), t('i32', shape)];
    },
  },
  combine: {
    doc: 'Un-permutes expert outputs: y[t] = Σ_j weights[t, j] · rows[slots[t, j]], skipping dropped (-1) slots, so a dropped token contributes zero and passes through the residual.',
    operands: ['rows', 'slots', 'weights'], results: ['y'], attrs: {},
    infer: ([rows, slots]) => [t(rows!.dtype, [slots!.shape[0]!, last(rows!.shape)])],
  },
  expert_linear: {
    doc: 'Dense per-expert linear: y[e] = x[e] · w[e]ᵀ with x [experts, n, in], w [experts, out, in] (Soft MoE slots, Expert Choice buffers).',
    operands: ['x', 'w'], results: ['y'], attrs: {},
    infer: ([x, w]) => (x!.shape.length === 3 && w!.shape.length === 3 && dimsEqual(w!.shape[2]!, x!.shape[2]!) ? [t(x!.dtype, [x!.shape[0]!, x!.shape[1]!, w!.shape[1]!])] : `expert weights ${fmt(w!.shape)} do not match ${fmt(x!.shape)}`),
    flops: ([x, w]) => mulDims(2, x!.shape[0]!, x!.shape[1]!, w!.shape[1]!, w!.shape[2]!),
  },
  gather_rows: {
    doc: 'y[i, j, :] = x[indices[i, j], :] (Expert Choice: each expert gathers its chosen tokens).', operands: ['x', 'indices'], results: ['y'], attrs: {},
    infer: ([x, idx]) => [t(x!.dtype, [...idx!.shape, last(x!.shape)])],
  },
  scatter_add_rows: {
    doc: 'y[indices[i, j], :] += x[i, j, :] into `rows` zero rows (Expert Choice combine).', operands: ['x', 'indices'], results: ['y'], attrs: { rows: { kind: 'dim' } },
    infer: ([x], at) => [t(x!.dtype, [at.rows as Dim, last(x!.shape)])],
  },
  load_balance_loss: {
    doc: 'Switch Transformer eq. 4 as Hugging Face computes it: experts · Σ_e Σ_j mean_t(onehot(indices[t, j]) = e) · mean_t(probs[t, e]).',
    operands: ['probs', 'indices'], results: ['loss'], attrs: { experts: { kind: 'int' } },
    infer: ([p]) => [t(p!.dtype, [])],
  },
  z_loss: {
    doc: 'ST-MoE router z-loss (eq. 5): mean_t (log Σ_e e^logits[t, e])².', operands: ['logits'], results: ['loss'], attrs: {},
    infer: ([x]) => [t(x!.dtype, [])],
  },
};
