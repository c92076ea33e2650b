// One MoE FFN layer as its own graph, for benchmarks: x [batch, seq, d_model] → router → top-k → SwiGLU experts →
// combine, the MoE block of an example spec lowered exactly as inside the model. Weights and inputs come from a hash
// of the element index that PyTorch reproduces bit for bit (bench/torch_moe.py), so both engines compute the
// same layer on the same numbers.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkOrThrow } from '../compiler/api.ts';
import { GraphBuilder } from '../compiler/lower/builder.ts';
import { lowerMoe } from '../compiler/lower/moe.ts';
import { runPipeline } from '../compiler/passes/pipeline.ts';
import type { Graph, Param } from '../compiler/ir/types.ts';
import type { MoeSpec } from '../compiler/spec/types.ts';

export interface LayerShape {
  name: string;
  /** The example whose first MoE block is benchmarked. */
  example: string;
  dModel: number;
  hidden: number;
  experts: number;
  topK: number;
  normalize: boolean;
}

export const shapes: Record<string, LayerShape> = {
  mixtral: { name: 'Mixtral-8x7B', example: 'mixtral-8x7b.moe', dModel: 4096, hidden: 14336, experts: 8, topK: 2, normalize: true },
  olmoe: { name: 'OLMoE-1B-7B', example: 'olmoe-1b-7b.moe', dModel: 2048, hidden: 1024, experts: 64, topK: 8, normalize: false },
  qwen: { name: 'Qwen1.5-MoE-A2.7B', example: 'qwen1.5-moe-a2.7b.moe', dModel: 2048, hidden: 1408, experts: 60, topK: 4, normalize: false },
};

/** The repository's examples/ folder, found upward from this file (which a bundle may have moved). */
function examplesDir(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'examples', 'mixtral-8x7b.moe'))) return join(dir, 'examples');
    if (dirname(dir) === dir) throw new Error('no examples/ folder above the benchmark');
  }
}

/** The example's MoE block, checked against the shape the benchmark claims to measure. */
export function moeSpecOf(shape: LayerShape): MoeSpec {
  const spec = checkOrThrow(join(examplesDir(), shape.example));
  const ffn = spec.decoder.layers.find((l) => l.ffn?.kind === 'moe')?.ffn;
  if (!ffn || ffn.kind !== 'moe') throw new Error(`${shape.example} has no MoE block`);
  const router = ffn.router;
  const got = { d: spec.dModel, hidden: ffn.expert.hidden, experts: ffn.experts, topK: ffn.topK, normalize: router.kind === 'softmax' && router.normalize };
  const want = { d: shape.dModel, hidden: shape.hidden, experts: shape.experts, topK: shape.topK, normalize: shape.normalize };
  if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`${shape.example}: ${JSON.stringify(got)} is not ${JSON.stringify(want)}`);
  return ffn;
}

/** The layer's graph: input `x` [batch, seq, d_model], output `y` of the same shape and `experts`
 * [tokens, k], the experts each token went to; passes applied. With `ranks`: one rank's graph under expert
 * parallelism (its tokens, experts / ranks of the experts, the exchanges around them). */
export function moeLayerGraph(shape: LayerShape, smaller?: { hidden: number }, ranks?: number): Graph {
  const b = new GraphBuilder(`${shape.name} MoE FFN`);
  const x = b.input('x', 'f32', ['batch', 'seq', shape.dModel]);
  // The routed experts: a shared expert (Qwen's) is a dense FFN beside the layer, not part of what is compared.
  const spec: MoeSpec = { ...moeSpecOf(shape), shared: undefined, sharedGate: false };
  // A narrower expert of the same block, for checks on small adapters.
  if (smaller) spec.expert = { ...spec.expert, hidden: smaller.hidden };
  const { y, router } = b.at('moe', () => lowerMoe(b, x, spec, 'moe', { ids: x, len: 'seq', dModel: shape.dModel, vocab: 0, stack: 'decoder', ranks }));
  b.output('y', y);
  b.output('experts', router.indices!);
  return runPipeline(b.graph());
}

/**
 * The tensors both engines fill from the hash, with a salt each and a scale that gives unit-variance inputs to every
 * product (a uniform on [-0.5, 0.5) has standard deviation 1/√12).
 */
export function tensorSalt(name: string): number {
  const salts: Record<string, number> = { 'moe.router.weight': 1, 'moe.experts.gate': 2, 'moe.experts.up': 3, 'moe.experts.down': 4, x: 5 };
  const s = salts[name];
  if (s === undefined) throw new Error(`no hash salt for ${name}`);
  return s;
}

export function tensorScale(name: string, fanIn: number): number {
  return name === 'x' ? Math.sqrt(12) : Math.sqrt(12 / fanIn);
}

/**
 * value(i) = f32(f32(h(i, salt) / 2³²) − 0.5) · scale, with h the murmur3 finaliser of i·2654435761 + salt·40503 (the
 * finaliser matters: without it rows of different tensors are the same Weyl sequence, and their dot products are
 * far from random). Each step is rounded to f32 as PyTorch's float32 arithmetic does; Math.imul keeps products' low
 * 32 bits exactly, as PyTorch's int64 arithmetic modulo 2³² does.
 */
export function hashTensor(n: number, salt: number, scale: number): Float32Array {
  const out = new Float32Array(n);
  const s = Math.fround(scale);
  const add = Math.imul(salt, 40503);
  for (let i = 0; i < n; i++) {
    let u = (Math.imul(i, 2654435761 | 0) + add) >>> 0;
    u = (u ^ (u >>> 16)) >>> 0;
    u = Math.imul(u, 0x85ebca6b) >>> 0;
    u = (u ^ (u >>> 13)) >>> 0;
    u = Math.imul(u, 0xc2b2ae35) >>> 0;
    u = (u ^ (u >>> 16)) >>> 0;
    out[i] = Math.fround(Math.fround(Math.fround(u) / 4294967296) - 0.5) * s;
  }
  return out;
}

export function paramTensor(p: Param): Float32Array {
  const shape = p.type.shape as number[];
  return hashTensor(shape.reduce((a, d) => a * d, 1), tensorSalt(p.name), tensorScale(p.name, shape[shape.length - 1]!));
}

/** Multiply-adds ×2 of the layer per forward: router plus k experts' three projections per token. */
export function layerFlops(shape: LayerShape, tokens: number): number {
  return 2 * tokens * (shape.dModel * shape.experts + shape.topK * 3 * shape.dModel * shape.hidden);
}
