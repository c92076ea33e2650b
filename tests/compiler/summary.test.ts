// moec summary: per-block parameters, active parameters, FLOPs per token and activation bytes, exact on a tiny
// spec (hand-computed below) and with totals equal to `moec stats` on every example.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkOrThrow, lower } from '../../compiler/api.ts';
import { lowerModel } from '../../compiler/lower/model.ts';
import { runPipeline } from '../../compiler/passes/pipeline.ts';
import { computeStats } from '../../compiler/stats.ts';
import { summarize } from '../../compiler/summary.ts';
import { formatSummary } from '../../bin/commands/summary.ts';

const tiny = `rmsnorm norm { eps: 1e-5 }
attention self_attention { heads: 2 }
moe sparse_ffn {
  experts: 4
  top_k: 2
  expert: ffn { hidden: 8, act: relu }
  router: softmax { normalize: false }
}
model tiny {
  vocab: 16
  d_model: 4
  decoder: stack {
    layers: 1
    block: block { norm: norm, attention: self_attention, ffn: sparse_ffn }
    final_norm: norm
  }
}
`;

const dir = mkdtempSync(join(tmpdir(), 'moec-summary-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('summary of a tiny spec (vocab 16, d_model 4, 2 heads, 4 experts of hidden 8, top-2; seq 8 = T tokens)', () => {
  const file = join(dir, 'tiny.moe');
  writeFileSync(file, tiny);
  const s = summarize(lower(file), 8);
  const row = (block: string) => s.rows.find((r) => r.block === block);

  it('has a row per block, layers before their blocks', () => {
    expect(s.rows.map((r) => [r.block, r.depth])).toEqual([
      ['embed', 0], ['decoder.0', 0], ['decoder.0.attn', 1], ['decoder.0.moe', 1], ['decoder.final_norm', 0], ['head', 0],
    ]);
  });

  it('counts the embedding: 16·4 parameters, no matmul, one f32 [1, 8, 4] value', () => {
    expect(row('embed')).toMatchObject({ params: 64, active_params: 64, flops_per_token: 0, activation_bytes: 8 * 4 * 4 });
  });

  it('counts attention: norm 4 + q, k, v, o 4·4 each; FLOPs 4 projections 2·T·4·4 + attention 2·T·T·2 heads·(2+2) over T', () => {
    // Projections: 4 · 256 = 1024. Attention on a symbolic seq counts every query-key pair: 2·1·2·64·4 = 1024. (1024 + 1024) / 8.
    // Values: rms_norm, q, k, v, attention, linear_add: 6 f32 [8, 4] = 6 · 128 bytes (reshapes are views).
    expect(row('decoder.0.attn')).toMatchObject({ params: 68, active_params: 68, flops_per_token: 256, activation_bytes: 768 });
  });

  it('counts the MoE: experts active top_k / experts, grouped matmuls over 2·T rows', () => {
    // Params: norm 4 + router 4·4 + up 4·8·4 + down 4·4·8 = 276; active 20 + 256 · 2/4 = 148.
    // FLOPs: router 2·8·4·4 = 256, up 2·16·8·4 = 1024, down 2·16·4·8 = 1024: 2304 / 8 = 288.
    // Bytes: norm 128, router logits 128, softmax_topk 128 + 64 + 64 (i32 indices), dispatch rows 16·4·4 = 256 +
    // offsets 5·4 = 20 + slots 64, up 16·8·4 = 512, down 256, combine 128, residual add 128: 1876.
    expect(row('decoder.0.moe')).toMatchObject({ params: 276, active_params: 148, flops_per_token: 288, activation_bytes: 1876 });
    expect(row('decoder.0')).toMatchObject({ params: 344, active_params: 216, flops_per_token: 544, activation_bytes: 2644 });
  });

  it('counts the final norm and the head (16·4, 2·T·4·16 FLOPs, logits [8, 16]) and the totals', () => {
    expect(row('decoder.final_norm')).toMatchObject({ params: 4, active_params: 4, flops_per_token: 0, activation_bytes: 128 });
    expect(row('head')).toMatchObject({ params: 64, active_params: 64, flops_per_token: 128, activation_bytes: 512 });
    expect(s.total).toEqual({ params: 476, active_params: 348, flops_per_token: 672, activation_bytes: 3412 });
  });

  it('prints a table with the totals last', () => {
    const text = formatSummary(s);
    expect(text.split('\n')[1]).toMatch(/^block +params +active params +FLOPs\/token +activations$/);
    expect(text).toMatch(/\n {2}attn +68 +68 +256 +768 B\n/);
    expect(text.trimEnd().split('\n').pop()).toMatch(/^total +476 +348 +672 +3\.3 KiB$/);
  });
});

describe('summary totals equal moec stats', () => {
  const examples = readdirSync('examples').filter((f) => f.endsWith('.moe'));
  it.each(examples)('%s', (f) => {
    const g = runPipeline(lowerModel(checkOrThrow(`examples/${f}`)), { verify: false }); // examples.test.ts verifies
    const st = computeStats(g, 512);
    const s = summarize(g, 512);
    expect([s.total.params, s.total.active_params, s.total.flops_per_token]).toEqual([st.total_params, st.active_params, st.flops_per_token]);
    // Layers are the sums of their blocks, and top-level rows sum to the total.
    const top = s.rows.filter((r) => r.depth === 0);
    expect(top.reduce((a, r) => a + r.params, 0)).toBe(s.total.params);
    expect(top.reduce((a, r) => a + r.activation_bytes, 0)).toBe(s.total.activation_bytes);
  });
});
