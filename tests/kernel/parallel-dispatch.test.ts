// The MoE dispatch's parallel passes (compiler/kernel/parallel-dispatch.ts) against the serial counting sort they
// replace, both run by the kernel interpreter: the same slots, offsets and rows, exactly, with capacities counted per
// group across chunk boundaries, groups smaller than a chunk, and no capacity at all.
import { describe, expect, it } from 'vitest';
import { parseGraph } from '../../compiler/ir/parse.ts';
import { mulberry32 } from '../../compiler/ir/hash.ts';
import { runProgram } from '../../compiler/kernel/interpret.ts';
import { CHUNK, splitDispatch } from '../../compiler/kernel/parallel-dispatch.ts';
import { scheduleGraph } from '../../compiler/kernel/schedule.ts';
import { shapeInference } from '../../compiler/passes/shape-inference.ts';

const experts = 5;
const graph = (attrs: string) => shapeInference.run(parseGraph(`graph g {
  input %x: f32[tokens, 3]
  input %e: i32[tokens, 2]
  %0, %1, %2 = dispatch(%x, %e) {experts = ${experts}${attrs}}
  output rows = %0
  output offsets = %1
  output slots = %2
}`));

/** Routes that favour expert 1 (so capacities bind), two distinct experts a token. */
function routes(tokens: number, seed: number): Int32Array {
  const rand = mulberry32(seed);
  const out = new Int32Array(tokens * 2);
  for (let t = 0; t < tokens; t++) {
    const a = rand() < 0.4 ? 1 : Math.floor(rand() * experts);
    out[2 * t] = a;
    out[2 * t + 1] = (a + 1 + Math.floor(rand() * (experts - 1))) % experts;
  }
  return out;
}

describe('the parallel dispatch gives the serial one\'s slots, offsets and rows', () => {
  const cases = [
    ['no capacity', ''],
    ['capacity 9', ', capacity = 9'],
    ['capacity factor 1.0', ', capacity_factor = 1.0'],
    [`groups of ${CHUNK + 6} (two chunks a group), factor 1.25`, `, capacity_factor = 1.25, group_size = ${CHUNK + 6}`],
    ['groups of 3, capacity 1', ', capacity = 1, group_size = 3'],
  ] as const;
  it.each(cases)('%s', (_, attrs) => {
    const program = scheduleGraph(graph(attrs));
    const parallel = splitDispatch(program);
    expect(parallel.kernels.map((k) => k.name.replace(/^k\d+_dispatch_/, ''))).toEqual(['clear', 'count', 'scan', 'offsets', 'assign', 'copy']);
    for (const tokens of [0, 1, 7, CHUNK, 3 * CHUNK + 17]) {
      const x = Float32Array.from({ length: tokens * 3 }, (_, j) => j + 1);
      const run = (p: typeof program) => runProgram(p, { params: () => new Float32Array(0), inputs: { x, e: routes(tokens, tokens + 1) }, sizes: { tokens } });
      const want = run(program);
      const got = run(parallel);
      for (const o of ['slots', 'offsets', 'rows']) expect([...got[o]!], `${o} at ${tokens} tokens`).toEqual([...want[o]!]);
      if (tokens > 2 * CHUNK && attrs.includes('capacity')) expect([...want.slots!].filter((s) => s < 0).length, 'some copies dropped').toBeGreaterThan(0);
    }
  });
});
