// Attention cases shared by the targets' tests: causal and not, GQA (4 query heads on 2 kv heads), RoPE in halves
// and interleaved with a partial rotary width, an additive bias, value widths other than the head width, and
// sequences longer than one block of queries or keys; the kernel interpreter's online-softmax loop nest is the truth.
import { parseGraph } from '../../compiler/ir/parse.ts';
import { mulberry32 } from '../../compiler/ir/hash.ts';
import type { Graph } from '../../compiler/ir/types.ts';

export interface AttentionCase {
  name: string;
  attrs: string;
  d: number;
  dv: number;
  bias: boolean;
}

export const attentionCases: AttentionCase[] = [
  { name: 'causal GQA with RoPE in halves', attrs: 'causal = true, scale = 0.25, rope_theta = 10000.0, rope_rotary_dim = 16', d: 16, dv: 16, bias: false },
  { name: 'causal, interleaved partial RoPE, value width 12', attrs: 'causal = true, scale = 0.25, rope_theta = 500.0, rope_rotary_dim = 8, rope_interleaved = true', d: 16, dv: 12, bias: false },
  { name: 'bidirectional with a bias', attrs: 'causal = false, scale = 1.0', d: 8, dv: 8, bias: true },
];

/** (batch, tokens): one short sequence, and two longer than a 96-query block and a 64-key tile. */
export const attentionSizes: [number, number][] = [[1, 7], [2, 200], [1, 130]];

export function attentionGraph({ attrs, d, dv, bias }: AttentionCase): Graph {
  return parseGraph(`graph attn {
  input %q: f32[batch, seq, 4, ${d}]
  input %k: f32[batch, seq, 2, ${d}]
  input %v: f32[batch, seq, 2, ${dv}]
  ${bias ? 'input %bias: f32[1, 4, seq, seq]' : ''}
  %0 = attention(%q, %k, %v${bias ? ', %bias' : ''}) {${attrs}} : f32[batch, seq, 4, ${dv}]
  output y = %0
}`);
}

export function attentionInputs({ d, dv, bias }: AttentionCase, batch: number, seq: number): Record<string, Float32Array> {
  const rand = mulberry32(seq);
  const r = (n: number) => Float32Array.from({ length: n }, () => rand() * 2 - 1);
  const inputs: Record<string, Float32Array> = { q: r(batch * seq * 4 * d), k: r(batch * seq * 2 * d), v: r(batch * seq * 2 * dv) };
  if (bias) inputs.bias = r(4 * seq * seq);
  return inputs;
}
