// The CUDA C of every Hugging Face fixture, run on the CPU (g++ with a shim of CUDA's built-ins, tests/helpers/
// cuda-host.ts): the logits match transformers' and the experts are those the reference executor chooses; and the
// tiled matmul against the loop nests on shapes off every tile edge (the fixtures' products fit in one tile). It
// checks what the generated code computes (tiled matmul, epilogues, every loop nest as CUDA spells it) where no GPU is.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runProgram } from '../../compiler/kernel/interpret.ts';
import { lowerModel } from '../../compiler/lower/model.ts';
import { runPipeline } from '../../compiler/passes/pipeline.ts';
import { scheduleGraph } from '../../compiler/kernel/schedule.ts';
import { splitDispatch } from '../../compiler/kernel/parallel-dispatch.ts';
import { renderProgram } from '../../targets/cuda/render.ts';
import { readInputs } from '../../runtime/inputs.ts';
import { namedOutputs, prepareRun, referenceExecutor } from '../../runtime/run-model.ts';
import { openCheckpoint, openSafetensors } from '../../runtime/safetensors/index.ts';
import { relativeL2 } from '../helpers/compare.ts';
import { runOnHost } from '../helpers/cuda-host.ts';
import { fixtureDirs, importedSpec } from '../helpers/fixtures.ts';
import { pool } from '../helpers/pool.ts';
import { productsGraph, random } from '../helpers/products.ts';
import { scratch } from '../helpers/spec.ts';

const gxx = spawnSync('g++', ['--version']).status === 0;
const run = pool(2);

function prepare(dir: string) {
  const spec = importedSpec(dir);
  const graph = runPipeline(lowerModel(spec));
  // As the CUDA runtime runs it: the dispatch as its parallel passes.
  const program = splitDispatch(scheduleGraph(graph));
  const checkpoint = openCheckpoint(dir);
  const inputs = readInputs(join(dir, 'inputs.json'), graph.inputs.map((i) => i.name), spec.vocab);
  const { weights, ids, sizes } = prepareRun(graph, spec.checkpoint?.tensors ?? [], checkpoint, dir, inputs);
  checkpoint.close();
  const data = (name: string) => {
    const b = program.buffers.find((x) => x.name === name)!;
    if (b.kind === 'param') return weights.get(b.source)!.data;
    if (b.kind === 'input') return ids[b.source];
    if (b.kind === 'const') return b.dtype === 'f32' ? Float32Array.from(b.data!) : Int32Array.from(b.data!);
    return undefined;
  };
  const out = run(() => runOnHost(program, renderProgram(program), data, sizes, join(scratch, 'cuda-host', dir.split('/').pop()!)));
  // Not awaited here: every fixture compiles and runs while the first is checked.
  out.catch(() => {});
  const ref = new Map(namedOutputs(graph, referenceExecutor(graph)(weights, ids, sizes), sizes).map((o) => [o.name, o]));
  return { out, ref, want: openSafetensors(join(dir, 'reference.safetensors')).readF32('logits') };
}

if (!gxx) it.skip('g++ is not on PATH: the CUDA C is NOT run on the CPU', () => {});

describe.runIf(gxx).each(gxx ? fixtureDirs() : [])('%s', (dir) => {
  const f = prepare(dir);
  it('CUDA C run on the CPU: logits within 1e-4 of transformers, the same experts as the reference executor', async () => {
    const out = await f.out;
    expect(relativeL2(out.logits as Float32Array, f.want)).toBeLessThan(1e-4);
    const choices = [...f.ref.keys()].filter((n) => n.startsWith('expert_indices.'));
    expect(choices.length).toBeGreaterThan(0);
    for (const n of choices) expect(Array.from(out[n]!), n).toEqual(Array.from(f.ref.get(n)!.data));
  }, 300_000);
});

describe.runIf(gxx)('the tiled matmul', () => {
  // Rows past one tile with K not a multiple of the K step; columns over one tile and three row tiles; an empty expert.
  const cases = (gxx ? [[130, 72, 37], [300, 200, 20]] : []).map(([rows, N, K]) => {
    const g = productsGraph(N!, K!);
    const program = scheduleGraph(g);
    const params = new Map(g.params.map((p, s) => [p.name, random(p.type.shape.reduce<number>((a, d) => a * Number(d), 1), s + 1)]));
    const third = Math.floor(rows! / 3);
    const inputs: Record<string, Float32Array | Int32Array> = { x: random(rows! * K!, 99), offsets: Int32Array.from([0, third, third, rows!]) };
    const data = (name: string) => {
      const b = program.buffers.find((x) => x.name === name)!;
      return b.kind === 'param' ? params.get(b.source) : b.kind === 'input' ? inputs[b.source] : undefined;
    };
    const sizes = { rows: rows! };
    const out = run(() => runOnHost(program, renderProgram(program), data, sizes, join(scratch, 'cuda-host', `products-${rows}-${N}-${K}`)));
    out.catch(() => {});
    return { name: `rows ${rows}, width ${N}, inner ${K}`, out, want: runProgram(program, { params: (n) => params.get(n)!, inputs, sizes }) };
  });
  it.runIf(gxx).each(cases)('$name: the loop nests\' outputs', async (c) => {
    const got = await c.out;
    for (const o of ['y', 'experts', 'plain']) expect(relativeL2(got[o] as Float32Array, c.want[o] as Float32Array), o).toBeLessThan(1e-5);
  }, 300_000);
});
