// The PEER layer (He 2024, "Mixture of A Million Experts", §2): what the checker says about its fields, and that its
// graph computes Σ_heads Σ_{i ∈ top-k} softmax(scores)_i · σ(u_iᵀx) · v_i, against a naive loop over all N experts
// that scores every one with its two sub-keys and keeps the k best of each head.
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../compiler/lower/builder.ts';
import { lowerPeer } from '../../compiler/lower/peer.ts';
import { runPipeline } from '../../compiler/passes/pipeline.ts';
import type { Graph } from '../../compiler/ir/types.ts';
import type { PeerSpec } from '../../compiler/spec/types.ts';
import { execute, mulberry32, tensorOf, type Tensor } from '../../runtime/reference/index.ts';
import { checkText, modelWith } from '../helpers/spec.ts';

const attn = 'attention attn { heads: 4 }';

describe('peer in a spec', () => {
  it('checks: a perfect square of experts, top_k ≤ √experts, an even key_dim', () => {
    const ok = checkText(modelWith(`${attn}\npeer ff { experts: 32*32, heads: 2, top_k: 4, key_dim: 16 }`));
    expect(ok.diagnostics).toEqual([]);
    expect(ok.model!.decoder.layers[0]!.ffn).toEqual({ kind: 'peer', experts: 1024, subKeys: 32, heads: 2, topK: 4, keyDim: 16, act: 'relu' });
  });

  it('experts that are not a perfect square: an error at the field, with the nearest squares', () => {
    const r = checkText(modelWith(`${attn}\npeer ff {\n  experts: 1000\n}`));
    expect(r.diagnostics.map((d) => d.message)).toEqual(['peer.experts (1000) must be a perfect square: experts are the pairs of two product-key tables of √experts keys']);
    expect(r.rendered).toContain(`--> ${r.path}:4:12`);
    expect(r.rendered).toContain('e.g. 961 = 31*31 or 1024 = 32*32');
  });

  it('top_k above √experts, and an odd key_dim', () => {
    const r = checkText(modelWith(`${attn}\npeer ff { experts: 16, top_k: 5, key_dim: 7 }`));
    expect(r.diagnostics.map((d) => d.message)).toEqual([
      'peer.top_k (5) exceeds √experts (4)',
      'peer.key_dim (7) must be even: its two halves query the two sub-key tables',
    ]);
  });
});

const spec: PeerSpec = { kind: 'peer', experts: 25, subKeys: 5, heads: 3, topK: 3, keyDim: 6, act: 'relu' };
const d = 12;
const [batch, seq] = [2, 3];

function peerGraph(): Graph {
  const b = new GraphBuilder('peer');
  const x = b.input('x', 'f32', ['batch', 'seq', d]);
  b.output('y', lowerPeer(b, x, spec, 'p', { len: 'seq', dModel: d }));
  return b.graph();
}

/** Every expert scored by its two sub-keys; each head's k best weighted by a softmax; a loop over all N experts. */
function naivePeer(x: Float32Array, w: Map<string, Float32Array>): Float64Array {
  const { experts: N, subKeys: n, heads, topK: k, keyDim } = spec;
  const half = keyDim / 2;
  const dot = (a: ArrayLike<number>, ao: number, b: ArrayLike<number>, bo: number, len: number) => {
    let s = 0;
    for (let c = 0; c < len; c++) s += a[ao + c]! * b[bo + c]!;
    return s;
  };
  const out = new Float64Array(batch * seq * d);
  for (let t = 0; t < batch * seq; t++) {
    const q = Array.from({ length: heads * keyDim }, (_, o) => dot(w.get('p.query')!, o * d, x, t * d, d));
    for (let h = 0; h < heads; h++) {
      const score = (i: number) =>
        dot(q, h * keyDim, w.get('p.keys1')!, Math.floor(i / n) * half, half) + dot(q, h * keyDim + half, w.get('p.keys2')!, (i % n) * half, half);
      const scores = Array.from({ length: N }, (_, i) => score(i));
      const chosen = [...scores.keys()].sort((a, b) => scores[b]! - scores[a]! || a - b).slice(0, k);
      const max = Math.max(...chosen.map((i) => scores[i]!));
      const total = chosen.reduce((s, i) => s + Math.exp(scores[i]! - max), 0);
      for (let i = 0; i < N; i++) {
        if (!chosen.includes(i)) continue;
        const g = Math.exp(scores[i]! - max) / total;
        const a = Math.max(0, dot(w.get('p.down')!, i * d, x, t * d, d));
        for (let c = 0; c < d; c++) out[t * d + c] += g * a * w.get('p.up')![i * d + c]!;
      }
    }
  }
  return out;
}

describe('the PEER layer computes what the paper says', () => {
  const g = peerGraph();
  const rand = mulberry32(3);
  const weights = new Map(g.params.map((p) => {
    const shape = p.type.shape as number[];
    return [p.name, Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rand() * 2 - 1)];
  }));
  const x = Float32Array.from({ length: batch * seq * d }, () => rand() * 2 - 1);
  const want = naivePeer(x, weights);

  it('declares query, keys1, keys2 shared by the heads, and u (down), v (up) [N, d_model] counted heads·k per token', () => {
    expect(g.params.map((p) => [p.name, p.type.shape, p.attrs])).toEqual([
      ['p.query', [18, d], {}], ['p.keys1', [5, 3], {}], ['p.keys2', [5, 3], {}],
      ['p.down', [25, d], { experts: 25, per_token: 9 }], ['p.up', [25, d], { experts: 25, per_token: 9 }],
    ]);
  });

  for (const [name, graph] of [['as lowered', () => runPipeline(g, { after: 'shape-inference' })], ['after every pass', () => runPipeline(g)]] as const) {
    it(`equals the naive loop over all experts (${name}), to 1e-5`, () => {
      const params = (n: string): Tensor => tensorOf('f32', g.params.find((p) => p.name === n)!.type.shape as number[], weights.get(n)!);
      const { outputs } = execute(graph(), params, { x: tensorOf('f32', [batch, seq, d], x) }, { batch, seq });
      const y = outputs.y!.data;
      const scale = Math.max(...want.map(Math.abs));
      expect(scale).toBeGreaterThan(0.1);
      want.forEach((v, i) => expect(Math.abs(y[i]! - v) / scale, `element ${i}`).toBeLessThan(1e-5));
    });
  }
});
