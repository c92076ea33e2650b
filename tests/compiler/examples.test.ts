// Every example: checks, lowers through every pass with the verifier between passes, and its IR round-trips
// through the text and JSON forms; its parameter counts are pinned against the papers' figures.
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { graphFromJson, graphToJson, lower, parseGraph, passNames, printGraph, stats } from '../../compiler/api.ts';

const examples = readdirSync('examples').filter((f) => f.endsWith('.moe')).map((f) => `examples/${f}`);

describe.each(examples)('%s', (file) => {
  it('passes the verifier after every pass, and the IR text and JSON round-trip', () => {
    for (const after of passNames()) {
      const g = lower(file, { after });
      const text = printGraph(g);
      expect(printGraph(parseGraph(text, file))).toBe(text);
      expect(graphFromJson(graphToJson(g))).toEqual(g);
    }
  });
});

describe('parameters against the papers', () => {
  const billions = (n: number, digits = 1) => (n / 1e9).toFixed(digits);
  it('Mixtral 8x7B: 46.7B total, 12.9B active (Jiang et al. 2024)', () => {
    const s = stats('examples/mixtral-8x7b.moe');
    expect([billions(s.total_params), billions(s.active_params)]).toEqual(['46.7', '12.9']);
  });
  it('DeepSeekMoE 16B: 16.4B total, 2.8B activated (Dai et al. 2024)', () => {
    const s = stats('examples/deepseek-moe-16b.moe');
    expect([billions(s.total_params), billions(s.active_params)]).toEqual(['16.4', '2.8']);
  });
  it('OLMoE-1B-7B: 6.9B total, 1.3B active (Muennighoff et al. 2024)', () => {
    const s = stats('examples/olmoe-1b-7b.moe');
    expect([billions(s.total_params), billions(s.active_params)]).toEqual(['6.9', '1.3']);
  });
  it('Qwen1.5-MoE-A2.7B: 14.3B total, 2.7B activated (Qwen Team 2024)', () => {
    const s = stats('examples/qwen1.5-moe-a2.7b.moe');
    expect([billions(s.total_params), billions(s.active_params)]).toEqual(['14.3', '2.7']);
  });
  it('DeepSeek-V3: 671B total, 37B activated (DeepSeek-AI 2024; the multi-token-prediction module not counted)', () => {
    const s = stats('examples/deepseek-v3.moe');
    expect([billions(s.total_params, 0), Math.floor(s.active_params / 1e9)]).toEqual(['671', 37]);
    expect(s.total_params).toBe(671_026_404_352);
    expect(s.active_params).toBe(37_552_282_624);
  });
  it('fine-grained segmentation at m = 1, 2, 4, 8 from one spec: Mixtral\'s parameters and FLOPs but for the router\'s 8m outputs', () => {
    const base = stats('examples/fine-grained.moe');
    const mixtral = stats('examples/mixtral-8x7b.moe');
    expect([base.total_params, base.active_params]).toEqual([mixtral.total_params, mixtral.active_params]);
    for (const m of [2, 4, 8]) {
      const s = stats('examples/fine-grained.moe', { set: { m: String(m) } });
      // 32 layers, a router of 8m outputs over d_model 4096: 8(m - 1) · 4096 more weights a layer, all of them active.
      const router = 32 * 8 * (m - 1) * 4096;
      expect(s.total_params - base.total_params, `m = ${m}`).toBe(router);
      expect(s.active_params - base.active_params, `m = ${m}`).toBe(router);
      expect(s.flops_per_token - base.flops_per_token, `m = ${m}`).toBe(2 * router);
    }
  });
  it('Switch-Base-8 as released (google/switch-base-8): 619M', () => {
    expect(stats('examples/switch-base-8.moe').total_params).toBe(619_339_008);
  });
  it('FLOPs per token grow with the sequence through attention only', () => {
    const a = stats('examples/mixtral-8x7b.moe', { seq: 1024 });
    const b = stats('examples/mixtral-8x7b.moe', { seq: 2048 });
    expect(b.flops_per_token).toBeGreaterThan(a.flops_per_token);
    // 2 × active matmul parameters per token (embedding lookups excluded) is the bulk of it.
    expect(a.flops_per_token / (2 * (a.active_params - 32000 * 4096))).toBeGreaterThan(1);
    expect(a.flops_per_token / (2 * (a.active_params - 32000 * 4096))).toBeLessThan(1.1);
  });
});
