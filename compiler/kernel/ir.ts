// The kernel IR: below the graph IR, each kernel is a loop nest over flat buffers with explicit index arithmetic.
// It is the one description every target renders (wasm, WGSL, CUDA): targets differ in types, intrinsics and launch
// conventions, not in what a kernel computes. Plain data, printable like the graph IR.
import type { Dim, DType } from '../ir/types.ts';

/** Scalar expressions. Index arithmetic is i32; values are f32 unless stated. */
export type Expr =
  | { k: 'const'; value: number; type: ScalarType }
  | { k: 'var'; name: string; type: ScalarType }
  /** A symbolic size known at run time (batch, seq, …) or a buffer-derived count. */
  | { k: 'size'; name: string }
  | { k: 'load'; buffer: string; index: Expr; type: ScalarType }
  | { k: 'bin'; op: BinOp; a: Expr; b: Expr; type: ScalarType }
  | { k: 'un'; op: UnOp; a: Expr; type: ScalarType }
  | { k: 'select'; cond: Expr; a: Expr; b: Expr; type: ScalarType }
  | { k: 'cast'; a: Expr; type: ScalarType }
  /** The byte address of element `index` of a buffer (an argument of a target intrinsic). */
  | { k: 'addr'; buffer: string; index: Expr; type: 'i32' };

export type ScalarType = 'f32' | 'i32' | 'bool';
export type BinOp = '+' | '-' | '*' | '/' | '%' | 'min' | 'max' | '<' | '<=' | '==' | '!=' | '&&' | '||';
export type UnOp = 'neg' | 'exp' | 'log' | 'sqrt' | 'rsqrt' | 'tanh' | 'erf' | 'sin' | 'cos' | 'floor' | 'abs';

export type Stmt =
  /** for var in 0 … extent-1. `parallel` loops have independent iterations (threads, workgroups, grid). */
  | { k: 'for'; var: string; extent: Expr; parallel: boolean; body: Stmt[] }
  /** A scalar local: declared with an initial value, updated by `set`. */
  | { k: 'let'; name: string; value: Expr; type: ScalarType }
  | { k: 'set'; name: string; value: Expr }
  | { k: 'store'; buffer: string; index: Expr; value: Expr }
  | { k: 'if'; cond: Expr; then: Stmt[] }
  /** A call of a target intrinsic (the wasm target's `gemm`); only target passes produce it. */
  | { k: 'call'; fn: string; args: Expr[] };

export interface KernelBuffer {
  name: string;
  dtype: DType;
  /** Elements, possibly symbolic. */
  size: Dim;
  access: 'read' | 'write' | 'readwrite';
}

/**
 * What a matrix-product kernel computes, for targets that run it with their own tiled matmul instead of the loop
 * nest: out[r, n] = act(Σ_k x[r, k]·w[n, k] + bias[n]) + residual[r, n], with w in the Linear layout [E?, N, K].
 * Two weights mean a gated product: act(x·w0ᵀ) ⊙ (x·w1ᵀ). With `offsets`, expert e multiplies rows
 * offsets[e] … offsets[e+1]-1 by its own w[e] (the grouped matmul of MoE layers).
 */
export interface GemmSpec {
  x: string;
  weights: string[];
  out: string;
  rows: Expr;
  N: number;
  K: number;
  offsets?: string;
  experts?: number;
  bias?: string;
  act?: string;
  residual?: string;
}

/**
 * The MoE dispatch's counting sort, for targets that run it in parallel: copy c = t·k + j of token t goes to expert
 * idx[c] if fewer than `capacity` earlier copies of its group (tokens in groups of `group`) went there; kept copies
 * get rows in token order within their expert (`slots[c]`, -1 when dropped), `offsets` the experts' row ranges, and
 * `rows` the copied tokens, zero past the kept ones. `capacity` may read the loop variable `t` (a group's first token).
 */
export interface DispatchSpec {
  x: string;
  idx: string;
  rows: string;
  offsets: string;
  slots: string;
  experts: number;
  tokens: Expr;
  k: Expr;
  width: Expr;
  /** Rows of `rows` (kept copies plus zero rows). */
  rowCount: Expr;
  group: Expr;
  capacity: Expr;
  /** A scratch array of `experts` i32 the parallel form may use for counts and row starts. */
  counts: string;
  /** A scratch array of tokens · 2 · experts i32 the parallel form may use for per-chunk counts. */
  chunks: string;
}

/**
 * softmax over a row's `n` logits, then its `k` largest probabilities (ties to the lower index) and their indices,
 * renormalised to sum to one when `normalize` (the softmax_topk op), for targets that fuse it into the router's matmul.
 */
export interface RouterSpec {
  logits: string;
  probs: string;
  values: string;
  indices: string;
  n: number;
  k: number;
  normalize: boolean;
}

/** softmax(scale·q·kᵀ + bias [+ causal mask]) · v, as the attention op defines it (q [batch, qLen, heads, headDim]). */
export interface AttentionSpec {
  q: string;
  k: string;
  v: string;
  out: string;
  bias?: string;
  biasShape?: Dim[];
  batch: Dim;
  qLen: Dim;
  heads: Dim;
  headDim: Dim;
  kLen: Dim;
  kvHeads: Dim;
  vDim: Dim;
  causal: boolean;
  scale: number;
  /** q and k are rotated as they are read (RoPE fused into the attention); `inv` is the inverse-frequency table. */
  rope?: { inv: string; rotaryDim: number; interleaved: boolean };
}

export interface Kernel {
  name: string;
  /** The graph op(s) it computes, for reports and fusion. */
  ops: string[];
  loc?: string;
  buffers: KernelBuffer[];
  body: Stmt[];
  /** Set on matrix products: the same computation as `body`, described for a target's tiled matmul. */
  gemm?: GemmSpec;
  /** Set on attention: what it computes, for targets with their own attention. */
  attention?: AttentionSpec;
  /** Set on the MoE dispatch: what it computes, for targets that sort in parallel. */
  dispatch?: DispatchSpec;
  /** Set on softmax_topk: what it computes; on a matmul it was fused into (compiler/kernel/fuse-router.ts), the
   * softmax and top-k of the matmul's outputs that kernel computes after it. */
  router?: RouterSpec;
  /**
   * Set by a target that splits this kernel across threads: it takes (…, u0, u1, scratch) and computes units u0…u1-1
   * of `units`, with `scratch` f32 elements (the sum of these sizes) of its own at address `scratch`. `work` (multiply-
   * adds, roughly) lets a runtime keep small calls on one thread, where waking the others would cost more.
   */
  threads?: { units: Dim; scratch: Dim[]; work: Dim };
  /**
   * Set on expert parallelism's exchanges (all_to_all_dispatch, all_to_all_combine): not a loop nest (its body is
   * empty) but rows sent between ranks, which a runtime with a collective library (NCCL) carries out.
   */
  collective?: CollectiveSpec;
}

export interface CollectiveSpec {
  op: 'all_to_all_dispatch' | 'all_to_all_combine';
  experts: number;
  ranks: number;
  /** Elements of a row (d_model, or the expert output's width). */
  width: number;
}

/** A buffer of the compiled program: a graph value, a parameter, an input or a scratch array. */
export interface ProgramBuffer {
  name: string;
  dtype: DType;
  size: Dim;
  kind: 'param' | 'input' | 'output' | 'temp' | 'const';
  /** The values of a compile-time table (kind 'const'): RoPE frequencies, hash maps. */
  data?: number[];
  /** The graph value or parameter it holds. */
  source: string;
  /** Another buffer whose storage this one shares (a reshape is a view, not a kernel). */
  aliasOf?: string;
  /** A parameter repacked by a target at load time (kind 'param'): weights in NR-column panels, gated pairs interleaved. */
  packed?: { layout: 'panels'; nr: number; sources: string[]; N: number; K: number; experts: number };
}

export interface KernelProgram {
  name: string;
  buffers: ProgramBuffer[];
  kernels: Kernel[];
  /** Graph output name → buffer. */
  outputs: { name: string; buffer: string; shape: Dim[] }[];
  inputs: { name: string; buffer: string; shape: Dim[] }[];
}
