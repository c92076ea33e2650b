// The research zoo's examples that route by other means than a learned top-k (Expert Choice, Hash Layers, Mixture of
// Word Experts) and the fine-grained family: their parameter counts pinned, and a tiny configuration of each very
// spec (its params set small on the command line's --set path) run with seeded random weights on the reference
// executor and on the wasm target, which must agree.
import { describe, expect, it } from 'vitest';
import { checkOrThrow, stats } from '../../compiler/api.ts';
import { lowerModel } from '../../compiler/lower/model.ts';
import { runPipeline } from '../../compiler/passes/pipeline.ts';
import { wasmExecutor } from '../../bin/compile.ts';
import { referenceExecutor } from '../../runtime/run-model.ts';
import { randomWeights } from '../../runtime/weights/random.ts';
import { relativeL2 } from '../helpers/compare.ts';

const tiny = { vocab: '64', d_model: '32', d_ff: '16', heads: '4', n_layers: '2', experts: '4' };

const zoo = [
  // [file, total parameters, active, FLOPs per token at seq 2048, the tiny overrides]
  ['examples/expert-choice.moe', 26_707_855_360, 1_743_357_952, 3_758_096_384, tiny],
  ['examples/hash-layers.moe', 3_387_450_368, 216_556_544, 468_189_184, tiny],
  ['examples/mixture-of-word-experts.moe', 1_313_950_464, 110_709_504, 247_529_472, { ...tiny, expert_ff: '8' }],
  // FNet-Base: the paper's 83M less the parts moec does not express (examples/fnet.moe says which); the Fourier
  // sublayer's FLOPs are its four DFT matmuls, 4 · d_model · (seq + d_model) per token and layer.
  ['examples/fnet.moe', 81_707_264, 81_707_264, 266_225_664, { vocab: '64', d_model: '32', d_ff: '16', n_layers: '2' }],
  // Tiny: layer 0 Fourier mixing and a dense FFN, layer 1 attention and the expert-choice MoE.
  ['examples/sparse-mixer.moe', 176_320_768, 50_338_048, 169_158_656, { ...tiny, n_attention_layers: '1', n_moe_layers: '1' }],
  // PEER in the middle block: total = 2 · 1024² · 1024 expert weights (u, v) + the query 8·128 × 1024 + the sub-keys
  // 2 · 1024 · 64 + the dense rest; active swaps the expert weights for 2 · 8 · 16 · 1024. Tiny: 16 experts, 4 sub-keys
  // per table, top-2 of 2 heads, in layer 1.
  ['examples/peer.moe', 2_356_831_232, 209_609_728, 456_130_816, { ...tiny, experts: '16', peer_heads: '2', top_k: '2', key_dim: '8' }],
  // GShard MoE(2048E, 36L): the paper's "600B" is rounded; the experts alone are 18 · 2048 · 2 · 1024 · 8192.
  ['examples/gshard.moe', 619_107_246_080, 1_235_935_232, 2_924_478_464, tiny],
  // Soft MoE-B/16: every token feeds every slot, so all experts count as active.
  ['examples/soft-moe.moe', 3_685_058_304, 3_685_058_304, 197_359_872, tiny],
  // CoLT5: the heavy branch counts 1/8 active (the routed fraction), the light branch fully.
  ['examples/colt5.moe', 445_767_936, 247_587_072, 1_068_582_912, { vocab: '64', d_model: '32', d_ff: '16', heads: '4', n_layers: '2', routed_fraction: '0.25' }],
  // SwitchHead: per layer the two heads' 5 value and 5 output maps (2 · 2 · 5 · 256 · 1024), 3 of 5 active.
  ['examples/switchhead.moe', 418_399_232, 368_067_584, 771_162_112, { vocab: '64', d_model: '32', d_ff: '16', heads: '2', head_dim: '8', experts: '4', top_k: '2', n_layers: '2' }],
  // MoEUT: 18 layers run 2 blocks' weights (declared once); FLOPs count all 18 layers.
  ['examples/moeut.moe', 212_644_864, 88_912_896, 561_725_440, { vocab: '64', d_model: '32', n_layers: '4', group: '2', heads: '2', head_dim: '8', att_experts: '3', att_k: '2', experts: '4', expert_ff: '8', top_k: '2' }],
  // Its counts at m = 2, 4, 8: tests/compiler/examples.test.ts; here m = 1 (the tiny run needs params it has not).
  ['examples/fine-grained.moe', 46_702_792_704, 12_879_925_248, undefined, { m: '4' }],
] as const;

describe.each(zoo)('%s', (file, total, active, flops, small) => {
  it('parameters and FLOPs as pinned', () => {
    const s = stats(file);
    expect([s.total_params, s.active_params]).toEqual([total, active]);
    if (flops !== undefined) expect(s.flops_per_token).toBe(flops);
  });

  if (file !== 'examples/fine-grained.moe') it('a tiny configuration runs on the reference executor and on wasm, to the same outputs', () => {
    const spec = checkOrThrow(file, { set: small });
    const graph = runPipeline(lowerModel(spec));
    const weights = randomWeights(graph.params, 11, 0.5);
    // Encoder-decoder specs (GShard, CoLT5) also read decoder ids; decoder-only ones ignore them.
    const sizes = { batch: 2, seq: 12, dec_seq: 12 };
    const ids = {
      input_ids: Int32Array.from({ length: 24 }, (_, i) => (i * 13 + 5) % 64),
      decoder_input_ids: Int32Array.from({ length: 24 }, (_, i) => (i * 7 + 3) % 64),
    };
    const ref = referenceExecutor(graph)(weights, ids, sizes);
    const wasm = wasmExecutor(graph);
    const got = wasm(weights, ids, sizes);
    wasm.close();
    expect(ref.logits!.length).toBe(24 * 64);
    expect(Array.from(ref.logits!).every(Number.isFinite)).toBe(true);
    expect(Object.keys(got).sort()).toEqual(Object.keys(ref).sort());
    for (const [k, v] of Object.entries(ref)) {
      if (v instanceof Int32Array) expect(Array.from(got[k]!), k).toEqual(Array.from(v));
      else expect(relativeL2(got[k] as Float32Array, v), k).toBeLessThan(1e-4);
    }
  });
});
