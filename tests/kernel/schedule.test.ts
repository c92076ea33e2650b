// The kernel IR against the fixtures: every HF fixture, scheduled into loop-nest kernels and run by the kernel
// interpreter with temporaries packed by the memory planner (freed storage poisoned with NaN), reproduces
// transformers' logits and the reference executor's expert choices.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runProgram } from '../../compiler/kernel/interpret.ts';
import { memoryReport, planMemory } from '../../compiler/kernel/memory-plan.ts';
import { printProgram } from '../../compiler/kernel/print.ts';
import { scheduleGraph } from '../../compiler/kernel/schedule.ts';
import { lowerModel } from '../../compiler/lower/model.ts';
import { runPipeline } from '../../compiler/passes/pipeline.ts';
import { execute } from '../../runtime/reference/index.ts';
import { openCheckpoint, openSafetensors } from '../../runtime/safetensors/index.ts';
import { bindWeights } from '../../runtime/weights/bind.ts';
import { relativeL2 } from '../helpers/compare.ts';
import { fixtureDirs, importedSpec } from '../helpers/fixtures.ts';

describe.each(fixtureDirs())('%s through the kernel IR', (dir) => {
  it('matches the logits and expert choices with the memory plan applied', () => {
    const spec = importedSpec(dir);
    const graph = runPipeline(lowerModel(spec));
    const program = scheduleGraph(graph);
    expect(printProgram(program)).toContain(`kernel ${program.kernels[0]!.name}`);
    const plan = planMemory(program);
    const checkpoint = openCheckpoint(dir);
    const weights = bindWeights(graph.params, spec.checkpoint?.tensors ?? [], checkpoint, dir);
    checkpoint.close();
    const json = JSON.parse(readFileSync(join(dir, 'inputs.json'), 'utf8')) as Record<string, number[][]>;
    const sizes: Record<string, number> = { batch: json.input_ids!.length, seq: json.input_ids![0]!.length };
    if (json.decoder_input_ids) sizes.dec_seq = json.decoder_input_ids[0]!.length;
    const inputs = Object.fromEntries(Object.entries(json).map(([k, v]) => [k, Int32Array.from(v.flat())]));

    const out = runProgram(program, { params: (n) => weights.get(n)!.data, inputs, sizes, plan });
    const reference = openSafetensors(join(dir, 'reference.safetensors'));
    expect(relativeL2(out.logits!, reference.readF32('logits'))).toBeLessThan(1e-4);

    const oracle = execute(graph, (n) => ({ dtype: 'f32', shape: weights.get(n)!.shape, data: weights.get(n)!.data }),
      Object.fromEntries(graph.inputs.map((i) => [i.name, { dtype: 'i32' as const, shape: [sizes.batch!, i.name === 'decoder_input_ids' ? sizes.dec_seq! : sizes.seq!], data: inputs[i.name]! }])), sizes);
    const choices = Object.keys(oracle.outputs).filter((n) => n.startsWith('expert_indices.'));
    expect(choices.length).toBeGreaterThan(0);
    for (const n of choices) expect(Array.from(out[n]!), n).toEqual(Array.from(oracle.outputs[n]!.data));

    const report = memoryReport(program, plan, { ...sizes, dec_seq: sizes.dec_seq ?? 1 });
    expect(report.slots).toBeLessThan(report.buffers);
    expect(report.plannedBytes).toBeLessThan(report.unplannedBytes);
  });
});
