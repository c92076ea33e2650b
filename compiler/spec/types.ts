// The checked model: what a .moe spec means, as plain data with every name resolved and every number evaluated.
// Lowering to the graph IR reads only this.
import type { Span } from '../../dsl/source.ts';

export type Activation = 'relu' | 'gelu' | 'gelu_tanh' | 'silu' | 'sigmoid';

export interface NormSpec {
  kind: 'rmsnorm' | 'layernorm';
  eps: number;
  /** LayerNorm's additive bias (RMSNorm has none). */
  bias: boolean;
}

export interface RopeSpec {
  theta: number;
  /** How many leading dimensions of each head are rotated (partial rotary embedding). */
  rotaryDim: number;
  /** true: pairs are adjacent (x0,x1),(x2,x3) as in GPT-J/DeepSeek; false: halves (x_i, x_{i+d/2}) as in Llama/Mixtral. */
  interleaved: boolean;
}

/** T5's relative position bias (Raffel et al. 2020, §2.1): log-spaced buckets of key-query distance, one scalar per head. */
export interface RelativeBiasSpec {
  buckets: number;
  maxDistance: number;
  bidirectional: boolean;
  /** One table in the first layer, reused by every layer of the stack (as T5 does). */
  shared: boolean;
}

export interface AttentionSpec {
  kind: 'attention';
  heads: number;
  kvHeads: number;
  headDim: number;
  causal: boolean;
  /** Bias on the q, k, v projections. */
  qkvBias: boolean;
  outBias: boolean;
  /** Multiplier of q·k before the softmax. */
  scale: number;
  rope?: RopeSpec;
  relativeBias?: RelativeBiasSpec;
  /** Normalisation of q and k (OLMoE, Qwen3): over the whole projection or per head. */
  qkNorm?: { norm: NormSpec; scope: 'full' | 'head' };
  /** Keys and values from the encoder's output instead of this stack. */
  cross: boolean;
  /** SwitchHead: the value and output projections of each head are mixtures of `experts` maps, top `topK` per token. */
  experts?: { experts: number; topK: number };
}

/** DeepSeek-V2/V3 multi-head latent attention: low-rank q and a compressed kv cache with a decoupled rotary part. */
export interface MlaSpec {
  kind: 'mla';
  heads: number;
  qLoraRank: number;
  kvLoraRank: number;
  qkNopeDim: number;
  qkRopeDim: number;
  vDim: number;
  causal: boolean;
  scale: number;
  rope: RopeSpec;
  norm: NormSpec;
}

/** FNet's token mixing in place of attention (Lee-Thorp et al. 2022, §3.2): Re(FFT_seq(FFT_hidden(x))), no parameters. */
export interface FourierSpec {
  kind: 'fourier';
}

export interface FfnSpec {
  kind: 'ffn';
  hidden: number;
  act: Activation;
  /** Gated linear unit: act(x·W_gate) ⊙ (x·W_up) (Shazeer 2020, GLU variants). */
  gated: boolean;
  bias: boolean;
}

export type RouterSpec =
  | { kind: 'softmax'; normalize: boolean; bias: boolean; second: 'always' | 'random'; seed: number }
  | { kind: 'sigmoid'; normalize: boolean; scoreBias: boolean; groups: number; topkGroups: number; scale: number }
  | { kind: 'expert_choice'; capacityFactor: number; score: 'softmax' | 'sigmoid' }
  | { kind: 'hash'; method: 'modulo' | 'random'; seed: number }
  | { kind: 'soft'; slotsPerExpert: number }
  | { kind: 'vocab'; seed: number };

export interface MoeSpec {
  kind: 'moe';
  /** Routed experts after fine-grained segmentation (experts × granularity). */
  experts: number;
  /** Experts per token after segmentation (top_k × granularity). */
  topK: number;
  granularity: number;
  /** One routed expert, its hidden size already divided by the granularity. */
  expert: FfnSpec;
  /** Always-on experts, merged into one FFN of hidden × count (DeepSeekMoE). */
  shared?: FfnSpec;
  sharedCount: number;
  /** Qwen2-MoE scales the shared expert by sigmoid(x·w). */
  sharedGate: boolean;
  router: RouterSpec;
  /** Switch capacity: a fixed number of slots per expert, or a factor of tokens×k/experts; absent means dropless. */
  capacity?: { factor?: number; perExpert?: number };
  auxLossCoef: number;
  zLossCoef: number;
  jitter: number;
  routerDtype: 'f32' | 'bf16' | 'f16';
}

/**
 * PEER (He 2024, §2): `experts` single-neuron experts σ(u_iᵀx)·v_i picked by product keys, `topK` per head for each
 * of `heads` heads; expert i is the pair (i / √N, i mod √N) of sub-keys. The query is a plain linear map (the paper
 * adds batch normalisation, §2).
 */
export interface PeerSpec {
  kind: 'peer';
  experts: number;
  /** √experts: rows of each sub-key table. */
  subKeys: number;
  heads: number;
  topK: number;
  keyDim: number;
  act: Activation;
}

export type FeedForward = FfnSpec | MoeSpec | PeerSpec;

export interface LayerSpec {
  index: number;
  norm: NormSpec;
  residual: 'pre_norm' | 'post_norm' | 'parallel';
  residualScale: number;
  attention?: AttentionSpec | MlaSpec | FourierSpec;
  crossAttention?: AttentionSpec;
  ffn?: FeedForward;
}

export interface StackSpec {
  name: 'encoder' | 'decoder';
  layers: LayerSpec[];
  /** Layer i uses the parameters of layer i mod share (MoEUT); absent: every layer has its own. */
  share?: number;
  finalNorm?: NormSpec;
}

export interface TensorMapping {
  from: string;
  to: string;
  /** A fused checkpoint tensor holds several moec parameters: take chunk `index` of `of` equal chunks along `axis`. */
  chunk?: { index: number; of: number; axis: number };
  span: Span;
}

export interface CheckpointSpec {
  format: string;
  /** moec parameter name pattern → checkpoint tensor name pattern, with {layer} and {expert} placeholders. */
  tensors: TensorMapping[];
}

export interface ModelSpec {
  name: string;
  vocab: number;
  dModel: number;
  embedding: { scale: number; positions: 'none' | 'learned'; maxPositions: number };
  encoder?: StackSpec;
  decoder: StackSpec;
  head: { tied: boolean; bias: boolean; scale: number };
  checkpoint?: CheckpointSpec;
  span: Span;
}
