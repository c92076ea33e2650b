// Expert parallelism on the reference executor: every fixture lowered for 2 (and 4) ranks, each rank running its
// share of the batch with its share of the experts, the ranks exchanging rows through the all-to-all collectives in
// lockstep, gives the single-device logits and the same expert choices, with Switch-style token dropping too.
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { importHf } from '../../compiler/import/hf/index.ts';
import { openSafetensors } from '../../runtime/safetensors/index.ts';
import { scratch } from '../helpers/spec.ts';
import { describe, expect, it } from 'vitest';
import { lowerModel } from '../../compiler/lower/model.ts';
import { placementErrors } from '../../compiler/lower/placement.ts';
import { runPipeline } from '../../compiler/passes/pipeline.ts';
import type { ModelSpec } from '../../compiler/spec/types.ts';
import { collectiveKernels } from '../../runtime/reference/kernels/collectives.ts';
import { referenceRanksExecutor, splitRanks } from '../../runtime/expert-parallel.ts';
import { tensorOf, type Tensor } from '../../runtime/reference/index.ts';
import { referenceExecutor } from '../../runtime/run-model.ts';
import { relativeL2 } from '../helpers/compare.ts';
import { fixtureDirs, fixtureRun, importedSpec } from '../helpers/fixtures.ts';

const i32 = (shape: number[], v: number[]) => tensorOf('i32', shape, v);
const f32 = (shape: number[], v: number[]) => tensorOf('f32', shape, v);

describe('all_to_all_dispatch and all_to_all_combine: 2 ranks, 4 experts (rank 0: 0, 1; rank 1: 2, 3), rows of width 1', () => {
  // rank 0 sorted 4 rows: expert 0 ← [10], expert 1 ← [11, 12], expert 3 ← [13]; rank 1: expert 1 ← [20], expert 2 ← [21, 22].
  const rank0 = [f32([4, 1], [10, 11, 12, 13]), i32([5], [0, 1, 3, 3, 4])];
  const rank1 = [f32([4, 1], [20, 21, 22, 0]), i32([5], [0, 0, 1, 3, 3])];
  const attrs = { experts: 4, ranks: 2 };
  const [to0, to1] = collectiveKernels.all_to_all_dispatch!([rank0, rank1], attrs);

  it('rank 0 receives its experts 0 and 1 grouped by expert, then by source rank: [10 | 11, 12, 20]', () => {
    expect(Array.from(to0![0]!.data)).toEqual([10, 11, 12, 20, 0, 0, 0, 0]);
    expect(Array.from(to0![1]!.data)).toEqual([0, 1, 4]);
    expect(Array.from(to0![2]!.data)).toEqual([1, 2, 0, 1]);
  });

  it('rank 1 receives experts 2 and 3: [21, 22 | 13]', () => {
    expect(Array.from(to1![0]!.data).slice(0, 3)).toEqual([21, 22, 13]);
    expect(Array.from(to1![1]!.data)).toEqual([0, 2, 3]);
    expect(Array.from(to1![2]!.data)).toEqual([0, 1, 2, 0]);
  });

  it('combine sends every result back to its row: the round trip of (x ↦ x + 100) is rows + 100 in place', () => {
    const plus = (t: Tensor) => f32(t.shape, Array.from(t.data, (v) => v + 100));
    const [back0, back1] = collectiveKernels.all_to_all_combine!([
      [plus(to0![0]!), rank0[1]!, to0![2]!], [plus(to1![0]!), rank1[1]!, to1![2]!],
    ], attrs);
    expect(Array.from(back0![0]!.data)).toEqual([110, 111, 112, 113]);
    expect(Array.from(back1![0]!.data).slice(0, 3)).toEqual([120, 121, 122]);
  });
});

/** Runs `spec` on one device and on `ranks` expert-parallel ranks, each with batch / ranks of the fixture's sequences. */
function compare(dir: string, spec: ModelSpec, ranks: number) {
  const single = runPipeline(lowerModel(spec));
  const run = fixtureRun(dir, spec, single);
  const parallel = runPipeline(lowerModel(spec, { expertParallel: ranks }));
  // Capacity per rank is counted over the rank's tokens: the single device counts over the same groups.
  const grouped = runPipeline(lowerModel(spec, { capacityGroupSequences: run.sizes.batch! / ranks }));
  const want = referenceExecutor(grouped)(run.weights, run.ids, run.sizes);
  const split = splitRanks(parallel, ranks, run.weights, run.ids, run.sizes);
  const results = referenceRanksExecutor(parallel)(split.ranks, split.sizes);
  const joined = (name: string) => results.flatMap((r) => Array.from(r[name]!));
  return { want, joined, names: Object.keys(want) };
}

describe.each(fixtureDirs().map((d) => [basename(d), d] as const))('%s fixture on 2 expert-parallel ranks', (name, dir) => {
  const spec = importedSpec(dir);
  it('the same logits (relative L2 < 1e-6) and the same experts for every token', () => {
    expect(placementErrors(spec, 2)).toEqual([]);
    const { want, joined, names } = compare(dir, spec, 2);
    expect(relativeL2(Float32Array.from(joined('logits')), want.logits as Float32Array)).toBeLessThan(1e-6);
    const indices = names.filter((n) => n.startsWith('expert_indices.'));
    expect(indices.length).toBeGreaterThan(0);
    for (const n of indices) expect(joined(n), n).toEqual(Array.from(want[n]!));
  });
});

describe('Switch-style token dropping under expert parallelism', () => {
  const dir = fixtureDirs().find((d) => d.endsWith('/switch'))!;
  const dropless = importedSpec(dir);
  // Two slots per expert and rank: the fixture's 16 encoder tokens per sequence over 8 experts overflow some.
  const withCapacity = (s: ModelSpec): ModelSpec => JSON.parse(JSON.stringify(s), (_k, v) => (v?.kind === 'moe' ? { ...v, capacity: { perExpert: 2 } } : v));
  const spec = withCapacity(dropless);

  it('dropping changes the outputs (tokens are dropped), and 2 ranks drop exactly what one device does per rank-sized group', () => {
    const { want, joined } = compare(dir, spec, 2);
    const free = compare(dir, dropless, 2);
    expect(relativeL2(free.want.logits as Float32Array, want.logits as Float32Array)).toBeGreaterThan(1e-3);
    expect(relativeL2(Float32Array.from(joined('logits')), want.logits as Float32Array)).toBeLessThan(1e-6);
  });

  it('refuses what it cannot place, in one line each', () => {
    expect(placementErrors(spec, 3)).toEqual(['encoder.1, encoder.3, decoder.1, decoder.3: 8 experts do not split evenly over 3 ranks']);
    expect(placementErrors(spec, 0)).toEqual(['--expert-parallel must be a positive integer, got 0']);
  });
});

describe('moec run --expert-parallel and moec ir --expert-parallel', () => {
  const dir = fixtureDirs().find((d) => d.endsWith('/mixtral'))!;
  const bin = new URL('../../bin/moec.js', import.meta.url).pathname;
  const moec = (...a: string[]) => spawnSync(process.execPath, [bin, ...a], { encoding: 'utf8' });
  const spec = join(scratch, 'mixtral-ep.moe');
  writeFileSync(spec, importHf(dir).text);

  it('on the reference, 2 ranks write the logits and expert choices of one device', () => {
    const one = join(scratch, 'mixtral-ep-1.safetensors');
    const two = join(scratch, 'mixtral-ep-2.safetensors');
    expect(moec('run', spec, '--weights', dir, '--input', join(dir, 'inputs.json'), '--out', one).status).toBe(0);
    const r = moec('run', spec, '--weights', dir, '--input', join(dir, 'inputs.json'), '--out', two, '--expert-parallel', '2');
    expect(r.stderr).toBe(`wrote ${two}\n`);
    const a = openSafetensors(one);
    const b = openSafetensors(two);
    expect(relativeL2(b.readF32('logits'), a.readF32('logits'))).toBeLessThan(1e-6);
    expect(Array.from(b.readF32('expert_indices.0'))).toEqual(Array.from(a.readF32('expert_indices.0')));
  });

  it('refuses in one line what it cannot do', () => {
    const out = join(scratch, 'mixtral-ep-x.safetensors');
    const run = (...extra: string[]) => moec('run', spec, '--weights', dir, '--input', join(dir, 'inputs.json'), '--out', out, ...extra);
    expect(run('--expert-parallel', '2', '--target', 'wasm').stderr).toBe('error: --expert-parallel runs on --target ref (the ranks in lockstep in one process) or cuda (a GPU a rank, through NCCL), not wasm\n');
    expect(run('--expert-parallel', 'two').stderr).toBe("error: --expert-parallel must be a positive integer, got 'two'\n");
    expect(run('--expert-parallel', '3').stderr).toBe('error: decoder.0, decoder.1: 4 experts do not split evenly over 3 ranks\n');
    // 2 sequences on 4 ranks: the experts split, the batch does not.
    expect(run('--expert-parallel', '4').stderr).toBe('error: the inputs hold 2 sequences, which do not split over 4 ranks: give a multiple of 4\n');
    expect(existsSync(out)).toBe(false);
  });

  it('moec ir shows the exchanges around the experts of each MoE layer', () => {
    const r = moec('ir', spec, '--expert-parallel', '2');
    expect(r.status).toBe(0);
    expect(r.stdout.match(/= all_to_all_dispatch\(/g)).toHaveLength(2);
    expect(r.stdout).toMatch(/all_to_all_dispatch\(%\d+, %\d+\) \{experts = 4, ranks = 2\} : f32\[4\*batch\*seq, 64\], i32\[3\], i32\[2, 2\]/);
    expect(r.stdout.match(/= all_to_all_combine\(/g)).toHaveLength(2);
  });
});
