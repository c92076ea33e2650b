// compiler/kernel/fuse-router.ts: each router's matmul and the softmax_topk over its logits become one kernel, which
// the kernel interpreter runs to the same outputs, bit for bit (the fixtures output the logits too); nothing is fused
// where another kernel reads the logits.
import { describe, expect, it } from 'vitest';
import { parseGraph } from '../../compiler/ir/parse.ts';
import { runProgram } from '../../compiler/kernel/interpret.ts';
import { fuseRouters } from '../../compiler/kernel/fuse-router.ts';
import { scheduleGraph } from '../../compiler/kernel/schedule.ts';
import { lowerModel } from '../../compiler/lower/model.ts';
import { runPipeline } from '../../compiler/passes/pipeline.ts';
import { shapeInference } from '../../compiler/passes/shape-inference.ts';
import { isNarrow } from '../../targets/cuda/narrow-gemm.ts';
import { fixtureDirs, fixtureRun, importedSpec } from '../helpers/fixtures.ts';
import { random } from '../helpers/products.ts';

describe('fusing the routers', () => {
  it.each(fixtureDirs().filter((d) => /mixtral|olmoe|qwen2_moe/.test(d)))('%s: one kernel less a MoE layer, the same outputs', (dir) => {
    const spec = importedSpec(dir);
    const graph = runPipeline(lowerModel(spec));
    const program = scheduleGraph(graph);
    const fused = fuseRouters(program, isNarrow);
    const routers = program.kernels.filter((k) => k.ops[0] === 'softmax_topk').length;
    expect(routers).toBeGreaterThan(0);
    expect(fused.kernels.length).toBe(program.kernels.length - routers);
    const merged = fused.kernels.filter((k) => k.router && k.gemm);
    expect(merged.map((k) => k.ops)).toEqual(Array(routers).fill(['linear', 'softmax_topk']));
    const { weights, ids, sizes } = fixtureRun(dir, spec, graph);
    const run = (p: typeof program) => runProgram(p, { params: (n) => weights.get(n)!.data as Float32Array, inputs: ids, sizes });
    const want = run(program);
    const got = run(fused);
    for (const o of Object.keys(want)) expect(Array.from(got[o]!), o).toEqual(Array.from(want[o]!));
  });

  it('leaves the pair apart where another kernel reads the logits', () => {
    const g = (extra: string, out: string) => scheduleGraph(shapeInference.run(parseGraph(`graph r {
  input %x: f32[rows, 16]
  param @w: f32[8, 16]
  %0 = linear(%x, @w) : f32[rows, 8]
  %1, %2, %3 = softmax_topk(%0) {k = 2, normalize = true}
  ${extra}
  output v = %2
  output i = %3
  ${out}
}`)));
    expect(fuseRouters(g('', ''), isNarrow).kernels.map((k) => k.ops)).toEqual([['linear', 'softmax_topk']]);
    expect(fuseRouters(g('%4 = relu(%0) : f32[rows, 8]', 'output r = %4'), isNarrow).kernels).toHaveLength(3);
    expect(fuseRouters(g('', 'output logits = %0'), isNarrow).kernels).toHaveLength(1);
    // A product the target would not take to its narrow matmul.
    expect(fuseRouters(g('', ''), () => false).kernels).toHaveLength(2);
    const p = fuseRouters(g('', ''), isNarrow);
    const x = random(5 * 16, 3);
    const w = random(8 * 16, 4);
    const a = runProgram(p, { params: () => w, inputs: { x }, sizes: { rows: 5 } });
    const b = runProgram(g('', ''), { params: () => w, inputs: { x }, sizes: { rows: 5 } });
    expect(Array.from(a.v!)).toEqual(Array.from(b.v!));
    expect(Array.from(a.i!)).toEqual(Array.from(b.i!));
  });
});
