// The gpu.js target without a browser: every kernel's code run as JavaScript (the gpu.js kernels called once per
// thread with `this.thread.x`, their (index, value) pairs scattered as on the GPU) must give the reference
// executor's outputs on tiny configurations of the examples; which kernels go to the GPU is pinned by kind. The
// kernels on WebGL through gpu.js run in tests/playground/playground.test.ts (a real headless Chromium).
import { describe, expect, it } from 'vitest';
import { checkOrThrow } from '../../compiler/api.ts';
import { lowerModel } from '../../compiler/lower/model.ts';
import { runPipeline } from '../../compiler/passes/pipeline.ts';
import { scheduleGraph } from '../../compiler/kernel/schedule.ts';
import { renderProgram } from '../../targets/gpujs/render.ts';
import { GpujsRunner } from '../../runtime/gpujs/run.ts';
import { referenceExecutor } from '../../runtime/run-model.ts';
import { randomWeights } from '../../runtime/weights/random.ts';
import { relativeL2 } from '../helpers/compare.ts';

const tiny = { vocab: '64', d_model: '32', d_ff: '16', heads: '4', n_layers: '2', experts: '4' };
const cases = [
  ['examples/expert-choice.moe', tiny],
  ['examples/gshard.moe', tiny],
  ['examples/switch-transformer.moe', { d_model: '32', d_ff: '16', d_kv: '8', heads: '4', n_layers: '2', experts: '4' }],
] as const;

describe.each(cases)('%s on the gpujs target (as JavaScript)', (file, set) => {
  it('the reference executor\'s outputs', () => {
    const graph = runPipeline(lowerModel(checkOrThrow(file, { set })));
    const program = scheduleGraph(graph);
    const rendered = renderProgram(program);
    const weights = randomWeights(graph.params, 3, 0.5);
    const sizes = { batch: 1, seq: 6, dec_seq: 6 };
    const ids = { input_ids: Int32Array.from([1, 5, 9, 13, 17, 21]), decoder_input_ids: Int32Array.from([2, 4, 6, 8, 10, 12]) };
    const want = referenceExecutor(graph)(weights, ids, sizes);
    const got = new GpujsRunner(program, rendered).run({ params: (n) => weights.get(n)!.data, inputs: ids, sizes });
    for (const [k, v] of Object.entries(want)) {
      if (v instanceof Int32Array) expect(Array.from(got[k]!), k).toEqual(Array.from(v));
      else expect(relativeL2(Float32Array.from(got[k]!), v), k).toBeLessThan(1e-4);
    }
    const modes = Object.fromEntries(rendered.kernels.map((k) => [k.name.replace(/^k\d+_/, ''), k.mode]));
    expect(modes).toMatchObject({ embedding: 'gpu', linear: 'gpu', dispatch: 'cpu' });
  });
});
