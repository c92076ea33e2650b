// What the playground's Run button runs, shared with its test (which recomputes the logits on the reference
// executor): the spec's params set small where it declares them, seeded random weights, fixed token ids.

/** Tiny values for the params the examples declare (a spec's own params only; others are left alone). */
export const tinyParams: Record<string, string> = {
  vocab: '64', d_model: '32', d_ff: '16', d_kv: '8', head_dim: '8', heads: '4', n_layers: '2', experts: '4',
  expert_ff: '8', key_dim: '8', n_attention_layers: '1', n_moe_layers: '1',
};

/** Above this many parameters the page refuses to run a spec (a browser tab's memory; set the params smaller). */
export const maxRunParams = 50_000_000;
export const weightSeed = 0;
export const weightStd = 0.2;
export const runSizes = { batch: 1, seq: 8, dec_seq: 8 };

export function runInputs(vocab: number): Record<string, Int32Array> {
  return {
    input_ids: Int32Array.from({ length: runSizes.seq }, (_, i) => (i * 7 + 3) % vocab),
    decoder_input_ids: Int32Array.from({ length: runSizes.dec_seq }, (_, i) => (i * 5 + 1) % vocab),
  };
}

/** The tiny overrides for a spec that declares `params`. */
export const tinySet = (params: readonly string[]) => Object.fromEntries(params.filter((p) => p in tinyParams).map((p) => [p, tinyParams[p]!]));
