// Minimal models differential testing found diverging (tests/differential), pinned with their exact values.
import { describe, expect, it } from 'vitest';
import { buildGraph, modelRun } from './build.ts';
import { compareValues } from './compare.ts';
import { compileWasmOnce, referenceValues, wasmValues } from './values.ts';

describe('Expert Choice with fewer tokens than experts', () => {
  // One token, two experts, capacity_factor 0.5: ceil(T · 0.5 / 2) = 1 token an expert would keep 2 rows where the
  // dispatch has room for T · ceil(0.5) = 1 (found by differential testing: the reference threw "dispatch kept 2 rows
  // but has room for 1"). An expert now takes at most floor(T · ceil(capacity_factor) / E) = 0 tokens here: the
  // token passes through on the residual, on the reference executor and on wasm alike.
  const text = `rmsnorm norm {}
moe ffn0 { experts: 2, expert: ffn { hidden: 2 }, router: expert_choice { capacity_factor: 0.5 } }
model fuzz {
  vocab: 8
  d_model: 8
  decoder: stack { layers: 1, block: block { norm: norm, ffn: ffn0 } }
}
`;
  it('no expert takes the lone token; reference and wasm agree value by value', () => {
    const { graph, vocab } = buildGraph(text);
    const run = modelRun(graph, vocab, { batch: 1, seq: 1, weightSeed: 1, idSeed: 1 });
    const ref = referenceValues(graph, run);
    const dispatch = graph.nodes.find((n) => n.op === 'dispatch')!;
    const choice = graph.nodes.find((n) => n.op === 'expert_choice')!;
    expect(Array.from(ref.get(choice.outputs[1]!)!)).toEqual([-1, -1]); // indices: neither expert chose the token
    expect(Array.from(ref.get(choice.outputs[0]!)!)).toEqual([0, 0]);
    expect(Array.from(ref.get(dispatch.outputs[1]!)!)).toEqual([0, 0, 0]); // offsets: no rows
    const logits = Array.from(ref.get(graph.outputs[0]!.value)!).map((x) => +x.toFixed(4));
    expect(logits).toEqual([-0.1861, 0.139, 0.6926, 0.4685, 0.1316, 0.3416, 0.2571, -0.0709]);
    const c = compareValues(graph, ref, wasmValues(compileWasmOnce(graph), run).values);
    expect(c.divergence?.message).toBeUndefined();
    expect(c.compared).toBeGreaterThan(10);
  });
});
