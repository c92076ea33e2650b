// Fusion on versus off: on every HF fixture the fused graph computes what the unfused one does.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lowerModel } from '../../compiler/lower/model.ts';
import { runPipeline } from '../../compiler/passes/pipeline.ts';
import { readInputs } from '../../runtime/inputs.ts';
import { runModel } from '../../runtime/run-model.ts';
import { openCheckpoint } from '../../runtime/safetensors/index.ts';
import { relativeL2 } from '../helpers/compare.ts';
import { fixtureDirs, importedSpec } from '../helpers/fixtures.ts';

const fusions = ['fuse-gated-ffn', 'fuse-epilogues', 'fuse-router', 'fuse-attention'];

describe.each(fixtureDirs())('%s', (dir) => {
  it('gives the same outputs with and without the fusion passes', () => {
    const spec = importedSpec(dir);
    const fused = runPipeline(lowerModel(spec));
    const plain = runPipeline(lowerModel(spec), { disable: fusions });
    expect(fused.nodes.length).toBeLessThan(plain.nodes.length);
    const checkpoint = openCheckpoint(dir);
    const inputs = readInputs(join(dir, 'inputs.json'), plain.inputs.map((i) => i.name), spec.vocab);
    const run = (g: typeof plain) => new Map(runModel(g, spec.checkpoint?.tensors ?? [], checkpoint, dir, inputs).map((o) => [o.name, o.data]));
    const a = run(fused);
    const b = run(plain);
    checkpoint.close();
    expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
    for (const [name, data] of b) {
      if (name.startsWith('expert_indices.')) expect(Array.from(a.get(name)!), name).toEqual(Array.from(data));
      else expect(relativeL2(a.get(name)!, data), name).toBeLessThan(1e-6);
    }
  });
});
