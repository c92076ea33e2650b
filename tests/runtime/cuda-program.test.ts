// The CUDA runtime's CudaProgram on a stand-in for the driver (no GPU here): what it uploads (bf16 weights as 2-byte
// words, everything else as 4) and which launches it makes (of a matmul's tall and short variants, the one its
// `when` picks at the run's sizes).
import { describe, expect, it } from 'vitest';
import { planMemory } from '../../compiler/kernel/memory-plan.ts';
import { scheduleGraph } from '../../compiler/kernel/schedule.ts';
import { cudaCompiled, renderProgram, type Precision } from '../../targets/cuda/render.ts';
import { toBf16 } from '../../runtime/cuda/bf16.ts';
import type { Cuda, KernelArg } from '../../runtime/cuda/driver.ts';
import { CudaProgram } from '../../runtime/cuda/run.ts';
import { productsGraph, random } from '../helpers/products.ts';

/** A driver that records uploads and launches and runs nothing. */
function recordingCuda() {
  let next = 0x1000n;
  const uploads = new Map<bigint, ArrayBufferView>();
  const launches: { entry: string; grid: number[]; block: number[]; args: KernelArg[]; shared?: number }[] = [];
  const cuda: Cuda = {
    device: 'stand-in', capability: [9, 0], maxShared: 227 * 1024, totalMemory: 80 * 2 ** 30,
    compile: (source) => source,
    fn: (_module, entry) => entry,
    alloc: (bytes) => ((next += BigInt(Math.ceil(bytes / 256) * 256 + 256)), next),
    free: () => {},
    upload: (ptr, data) => void uploads.set(ptr, data),
    download: () => {},
    launch: (fn, grid, block, args, shared) => void launches.push({ entry: fn as string, grid, block, args, shared }),
    sync: () => {},
    time: (body) => (body(), 0),
    ordinal: 0,
    deviceCount: 1,
    use: () => {},
    zero: () => {},
    close: () => {},
  };
  return { cuda, uploads, launches };
}

describe('CudaProgram', () => {
  const g = productsGraph(72, 40);
  const program = scheduleGraph(g);
  const params = new Map(g.params.map((p, s) => [p.name, random(p.type.shape.reduce<number>((a, d) => a * Number(d), 1), s + 1)]));
  const run = (precision: Precision, rows: number) => {
    const c = renderProgram(program, { precision });
    const rec = recordingCuda();
    const p = new CudaProgram(rec.cuda, program, planMemory(program), cudaCompiled(c));
    const third = Math.floor(rows / 3);
    p.run({ params: (n) => params.get(n)!, inputs: { x: random(rows * 40, 9), offsets: Int32Array.from([0, third, third, rows]) }, sizes: { rows } });
    return { c, ...rec };
  };

  it('uploads bf16 weights as bf16 words, 2 bytes an element, rounded to nearest even; biases as f32', () => {
    const { c, uploads } = run('bf16', 16);
    const uploaded = [...uploads.values()];
    const weights = c.bf16.filter((name) => program.buffers.find((b) => b.name === name)!.kind === 'param');
    for (const name of weights) {
      const want = toBf16(params.get(program.buffers.find((b) => b.name === name)!.source)!);
      expect(uploaded.some((u) => u instanceof Uint16Array && u.byteLength === 2 * want.length && u.every((v, i) => v === want[i])), name).toBe(true);
    }
    expect(uploaded.filter((u) => u instanceof Uint16Array)).toHaveLength(weights.length);
    expect(uploaded).toContain(params.get('be'));
    expect(uploaded).toContain(params.get('b'));
    expect([...run('f32', 16).uploads.values()].some((u) => u instanceof Uint16Array)).toBe(false);
  });

  it('launches one variant of each matmul: the short tiles at 16 rows, the tall ones at 1000', () => {
    const entries = (rows: number) => run('bf16', rows).launches.map((l) => l.entry);
    expect(entries(16)).toEqual(['k0_linear_short', 'k1_gated_linear_short', 'k2_linear_add_short', 'k3_grouped_linear_short', 'k4_linear_short']);
    expect(entries(1000)).toEqual(['k0_linear', 'k1_gated_linear', 'k2_linear_add', 'k3_grouped_linear', 'k4_linear']);
    const tall = run('bf16', 1000).launches[3]!;
    // One column block of 256 by ⌈1000 / 128⌉ + 3 row tiles; 3 stages of (128 + 256) rows of 128 bytes, and 1 KiB.
    expect(tall).toMatchObject({ grid: [11, 1, 1], block: [256, 1, 1], shared: 3 * 384 * 128 + 1024 });
    expect(tall.args.slice(-2)).toEqual([{ int: 72 }, { int: 40 }]);
  });

  it('refuses a bf16 program that does not say which parameters are bf16', () => {
    const c = cudaCompiled(renderProgram(program, { precision: 'bf16' }));
    expect(() => new CudaProgram(recordingCuda().cuda, program, planMemory(program), { ...c, bf16: undefined })).toThrow('a bf16 program must name its bf16 parameters');
  });
});
