// Exact parameter counts: the importer plus `stats` against Hugging Face's own counts (param_counts.json), and
// against counts worked out by hand from published configurations and the Switch Transformer paper.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stats } from '../../compiler/api.ts';
import { importHf } from '../../compiler/import/hf/index.ts';
import { scratch } from '../helpers/spec.ts';

interface CountEntry {
  total: number;
  expert_params: number;
  config: Record<string, unknown>;
}

const counts = JSON.parse(readFileSync(new URL('../../../shared/fixtures/param_counts.json', import.meta.url), 'utf8')) as Record<string, CountEntry>;

function importedStats(name: string, config: Record<string, unknown>) {
  const dir = join(scratch, 'hf', name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  const spec = join(scratch, `${name}.moe`);
  writeFileSync(spec, importHf(dir).text);
  return stats(spec);
}

describe('moec import hf + stats reproduce HF parameter counts exactly', () => {
  for (const [name, entry] of Object.entries(counts)) {
    it(name, () => {
      const s = importedStats(name, entry.config);
      expect(s.total_params).toBe(entry.total);
      expect(s.expert_params).toBe(entry.expert_params);
    });
  }
});

/** Hand counts, following the modules HF instantiates (docs/hf-semantics.md §8). */
function t5Switch(c: { V: number; d: number; ff: number; dkv: number; H: number; L: number; E: number; step: number; gated: boolean }) {
  const A = 4 * c.d * c.H * c.dkv;
  const F = (c.gated ? 3 : 2) * c.d * c.ff;
  let total = c.V * c.d;
  let experts = 0;
  for (const dec of [false, true]) {
    for (let i = 0; i < c.L; i++) {
      total += (dec ? 2 : 1) * A + (dec ? 3 : 2) * c.d;
      const sparse = c.step === 1 || i % c.step === 1;
      total += sparse ? c.E * c.d + c.E * F : F;
      if (sparse) experts += c.E * F;
    }
    total += 32 * c.H + c.d; // relative bias table (first block only) and final norm
  }
  return { total, experts };
}

describe('published configurations counted by hand', () => {
  it('Switch-C-2048 (google/switch-c-2048 config): 1571B', () => {
    const config = {
      model_type: 'switch_transformers', vocab_size: 32128, d_model: 2080, d_kv: 64, d_ff: 6144, num_heads: 32, num_layers: 15,
      num_decoder_layers: 15, num_experts: 2048, encoder_sparse_step: 1, decoder_sparse_step: 1, expert_capacity: 64,
      dense_act_fn: 'relu', tie_word_embeddings: true,
    };
    const s = importedStats('switch-c-2048', config);
    const hand = t5Switch({ V: 32128, d: 2080, ff: 6144, dkv: 64, H: 32, L: 15, E: 2048, step: 1, gated: false });
    expect(s.total_params).toBe(hand.total);
    expect(s.expert_params).toBe(hand.experts);
    expect(hand.total).toBe(1_571_308_972_448);
    expect(Math.round(s.total_params / 1e9)).toBe(1571);
  });

  it('Qwen1.5-MoE-A2.7B (Qwen/Qwen1.5-MoE-A2.7B config): 14.3B total, 2.7B active', () => {
    const config = {
      model_type: 'qwen2_moe', vocab_size: 151936, hidden_size: 2048, intermediate_size: 5632, moe_intermediate_size: 1408,
      shared_expert_intermediate_size: 5632, num_experts: 60, num_experts_per_tok: 4, num_hidden_layers: 24,
      num_attention_heads: 16, num_key_value_heads: 16, decoder_sparse_step: 1, norm_topk_prob: false, rope_theta: 1000000.0,
      rms_norm_eps: 1e-6, tie_word_embeddings: false, mlp_only_layers: [], router_aux_loss_coef: 0.001,
    };
    const s = importedStats('qwen1.5-moe-a2.7b', config);
    const H = 2048;
    const attn = 4 * H * H + 3 * H; // q, k, v, o and the q/k/v biases
    const experts = 60 * 3 * H * 1408;
    const layer = attn + 2 * H + 60 * H + experts + 3 * H * 5632 + H;
    expect(s.total_params).toBe(2 * 151936 * H + H + 24 * layer);
    expect(s.expert_params).toBe(24 * experts);
    expect(s.total_params).toBe(14_315_784_192);
    expect((s.active_params / 1e9).toFixed(1)).toBe('2.7');
  });

  it('OLMoE-1B-7B (allenai/OLMoE-1B-7B-0924 config): 6.9B total, 1.3B active', () => {
    const config = {
      model_type: 'olmoe', vocab_size: 50304, hidden_size: 2048, intermediate_size: 1024, num_hidden_layers: 16,
      num_attention_heads: 16, num_key_value_heads: 16, num_experts: 64, num_experts_per_tok: 8, rope_theta: 10000.0,
      rms_norm_eps: 1e-5, norm_topk_prob: false, tie_word_embeddings: false, router_aux_loss_coef: 0.01,
    };
    const s = importedStats('olmoe-1b-7b', config);
    const H = 2048;
    const layer = 4 * H * H + 2 * H + 2 * H + 64 * H + 64 * 3 * H * 1024;
    expect(s.total_params).toBe(2 * 50304 * H + H + 16 * layer);
    expect((s.total_params / 1e9).toFixed(1)).toBe('6.9');
    expect((s.active_params / 1e9).toFixed(1)).toBe('1.3');
  });
});

describe('the Switch family examples against the paper (Table 9)', () => {
  const cases: [string, Parameters<typeof t5Switch>[0], number][] = [
    ['switch-base-128', { V: 32128, d: 768, ff: 2048, dkv: 64, H: 12, L: 12, E: 128, step: 2, gated: true }, 7.4],
    ['switch-large-128', { V: 32128, d: 1024, ff: 2816, dkv: 64, H: 16, L: 24, E: 128, step: 2, gated: true }, 27.1],
    ['switch-xxl-128', { V: 32128, d: 4096, ff: 10240, dkv: 64, H: 64, L: 24, E: 128, step: 2, gated: true }, 395],
    ['switch-c-2048', { V: 32128, d: 2080, ff: 6144, dkv: 64, H: 32, L: 15, E: 2048, step: 1, gated: false }, 1571],
  ];
  for (const [name, dims, billions] of cases) {
    it(`${name}: ${billions}B`, () => {
      const s = stats(`examples/${name}.moe`);
      const hand = t5Switch(dims);
      expect(s.total_params).toBe(hand.total);
      expect(s.expert_params).toBe(hand.experts);
      const digits = billions >= 100 ? 0 : 1;
      expect((s.total_params / 1e9).toFixed(digits)).toBe(billions.toFixed(digits));
    });
  }
});
