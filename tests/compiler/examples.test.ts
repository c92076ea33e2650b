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
