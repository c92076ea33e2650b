// The memory planner's checks themselves: the static check (compiler/kernel/check-plan.ts) and the wasm runtime's
// poison mode accept the planner's plan and catch a plan that puts two live buffers in one slot.
import { describe, expect, it } from 'vitest';
import { checkMemoryPlan } from '../../compiler/kernel/check-plan.ts';
import type { MemoryPlan } from '../../compiler/kernel/memory-plan.ts';
import { buildGraph, modelRun } from './build.ts';
import { compileWasmOnce, wasmValues } from './values.ts';

const text = `rmsnorm norm {}
attention attn { heads: 2 }
ffn ff { hidden: 16, act: swiglu }
model m {
  vocab: 16
  d_model: 8
  decoder: stack { layers: 2, block: block { norm: norm, attention: attn, ffn: ff }, final_norm: norm }
}
`;

/** The plan with every f32 temporary of one (symbolic) size moved into the first such slot: live ones collide. */
function collapsed(plan: MemoryPlan): MemoryPlan {
  const slotOf = new Map(plan.slotOf);
  const first = new Map<string, number>();
  for (const [name, slot] of plan.slotOf) {
    const key = `${plan.slots[slot]!.dtype} ${plan.slots[slot]!.size}`;
    if (!first.has(key)) first.set(key, slot);
    slotOf.set(name, first.get(key)!);
  }
  return { ...plan, slotOf };
}

describe('memory plan checks', () => {
  const { graph, vocab } = buildGraph(text);
  const run = modelRun(graph, vocab, { batch: 2, seq: 5, weightSeed: 3, idSeed: 4 });
  const w = compileWasmOnce(graph);

  it('the planner\'s plan passes the static check, and poisoning freed buffers changes no output', () => {
    expect(checkMemoryPlan(w.program, w.plan)).toEqual([]);
    const plain = wasmValues(w, run).outputs;
    const poisoned = wasmValues(w, run, { poison: true }).outputs;
    expect(Array.from(poisoned.logits!)).toEqual(Array.from(plain.logits!));
    expect(poisoned.logits!.every(Number.isFinite)).toBe(true);
  });

  it('a plan that shares a slot between live buffers fails the static check', () => {
    const bad = collapsed(w.plan);
    const problems = checkMemoryPlan(w.program, bad);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0]).toMatch(/^slot \d+ holds \S+ \(live in kernels \d+–\d+\) and \S+ \(live in kernels \d+–\d+\) at once$/);
  });

  it('a temporary that is read before any kernel writes it is reported', () => {
    const k = w.program.kernels.find((x) => x.buffers.some((b) => b.access === 'read' && w.plan.slotOf.has(b.name)))!;
    const read = k.buffers.find((b) => b.access === 'read' && w.plan.slotOf.has(b.name))!;
    const program = { ...w.program, kernels: w.program.kernels.filter((x) => !x.buffers.some((b) => b.name === read.name && b.access !== 'read')) };
    expect(checkMemoryPlan(program, w.plan).some((p) => p.includes(`reads ${read.name} before any kernel writes it`))).toBe(true);
  });
});
