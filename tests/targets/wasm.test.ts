// The WebAssembly target on every HF fixture: the compiled model reproduces transformers' logits and makes the
// same expert choices as the reference executor.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lowerModel } from '../../compiler/lower/model.ts';
import { runPipeline } from '../../compiler/passes/pipeline.ts';
import { wasmExecutor } from '../../bin/compile.ts';
import { readInputs } from '../../runtime/inputs.ts';
import { runModel } from '../../runtime/run-model.ts';
import { openCheckpoint, openSafetensors } from '../../runtime/safetensors/index.ts';
import { relativeL2 } from '../helpers/compare.ts';
import { fixtureDirs, importedSpec } from '../helpers/fixtures.ts';

describe.each(fixtureDirs())('%s on wasm', (dir) => {
  it('logits within 1e-4 of transformers, the same experts as the reference executor', () => {
    const spec = importedSpec(dir);
    const graph = runPipeline(lowerModel(spec));
    const inputs = readInputs(join(dir, 'inputs.json'), graph.inputs.map((i) => i.name), spec.vocab);
    const checkpoint = openCheckpoint(dir);
    const mappings = spec.checkpoint?.tensors ?? [];
    const wasm = new Map(runModel(graph, mappings, checkpoint, dir, inputs, wasmExecutor(graph)).map((o) => [o.name, o]));
    const ref = new Map(runModel(graph, mappings, checkpoint, dir, inputs).map((o) => [o.name, o]));
    checkpoint.close();
    const want = openSafetensors(join(dir, 'reference.safetensors'));
    expect(wasm.get('logits')!.shape).toEqual(want.tensors.get('logits')!.shape);
    expect(relativeL2(wasm.get('logits')!.data, want.readF32('logits'))).toBeLessThan(1e-4);
    const choices = [...ref.keys()].filter((n) => n.startsWith('expert_indices.'));
    expect(choices.length).toBeGreaterThan(0);
    for (const n of choices) expect(Array.from(wasm.get(n)!.data), n).toEqual(Array.from(ref.get(n)!.data));
    for (const [n, o] of ref) if (n.startsWith('router_logits.') || n.endsWith('aux_loss')) expect(relativeL2(wasm.get(n)!.data, o.data), n).toBeLessThan(1e-5);
  });
});
