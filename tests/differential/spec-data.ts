// The data a random model spec is made of, for differential testing: plain values that fast-check generates and
// shrinks, rendered to .moe text by ./render.ts. Only valid specs are described (every constraint the checker
// enforces holds by construction), so a failing model is a compiler or target bug, not a rejected spec.

export type Act = 'relu' | 'gelu' | 'gelu_tanh' | 'silu' | 'swiglu' | 'geglu' | 'reglu';

export interface FfnData {
  hidden: number;
  act: Act;
  bias: boolean;
}

export interface AttentionData {
  kind: 'attention';
  kvHeads: number;
  causal: boolean;
  bias: boolean;
  rope?: { fraction: number; interleaved: boolean };
  qkNorm?: 'full' | 'head';
  /** SwitchHead: value and output projections as mixtures of `experts` maps, `topK` a head and token (no biases). */
  switchHead?: { experts: number; topK: number };
}

export interface MlaData {
  kind: 'mla';
  heads: number;
  qLoraRank: number;
  kvLoraRank: number;
  qkNopeDim: number;
  qkRopeDim: number;
  vDim: number;
  causal: boolean;
}

export type MixerData = AttentionData | MlaData | { kind: 'fourier' } | { kind: 'none' };

export type RouterData =
  | { kind: 'softmax'; normalize: boolean; bias: boolean; randomSecond?: boolean }
  | { kind: 'sigmoid'; groups: number; topkGroups: number; normalize: boolean; scoreBias: boolean; scale: number }
  | { kind: 'expert_choice'; capacityFactor: number; score: 'softmax' | 'sigmoid' }
  | { kind: 'hash'; method: 'modulo' | 'random'; seed: number }
  | { kind: 'soft'; slots: number }
  | { kind: 'vocab'; seed: number };

export interface MoeData {
  kind: 'moe';
  experts: number;
  topK: number;
  granularity: number;
  expert: FfnData;
  router: RouterData;
  /** Switch capacity (top-k routers only); undefined: dropless. */
  capacityFactor?: number;
  shared?: FfnData & { gate: boolean };
}

export type LayerFfnData = ({ kind: 'ffn' } & FfnData) | MoeData | { kind: 'none' };

export interface LayerData {
  mixer: MixerData;
  ffn: LayerFfnData;
}

export interface ModelData {
  vocab: number;
  dModel: number;
  heads: number;
  norm: 'rmsnorm' | 'layernorm';
  residual: 'pre_norm' | 'post_norm' | 'parallel';
  finalNorm: boolean;
  tied: boolean;
  layers: LayerData[];
}
