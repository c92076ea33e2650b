// The CUDA C of every Hugging Face fixture, run on the CPU (g++ with a shim of CUDA's built-ins, tests/helpers/
// cuda-host.ts): the logits match transformers' and the experts are those the reference executor chooses; and the
// tiled matmul against the loop nests on shapes off every tile edge (the fixtures' products fit in one tile). It
// checks what the generated code computes (tiled matmul, epilogues, every loop nest as CUDA spells it) where no GPU is.
// In bf16 mode too: the tensor-core matmul with its PTX emulated instruction by instruction (tests/helpers/cuda-host.ts)
// against the loop nests on the same bf16-rounded operands, and every fixture within bf16's tolerance; two in f16.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runProgram } from '../../compiler/kernel/interpret.ts';
import { lowerModel } from '../../compiler/lower/model.ts';
import { runPipeline } from '../../compiler/passes/pipeline.ts';
import { scheduleGraph } from '../../compiler/kernel/schedule.ts';
import { parseGraph } from '../../compiler/ir/parse.ts';
import type { KernelProgram } from '../../compiler/kernel/ir.ts';
import { renderProgram, type Precision } from '../../targets/cuda/render.ts';
import { cudaKernelProgram } from '../../targets/cuda/program.ts';
import { shortBelow, type MmaTile, type MmaTiles } from '../../targets/cuda/mma-gemm.ts';
import { roundToBf16 } from '../../runtime/cuda/bf16.ts';
import { halfValue, toHalf } from '../../runtime/half.ts';
import { bf16Helpers } from '../../targets/cuda/mma-templates.ts';
import { mulberry32 } from '../../compiler/ir/hash.ts';
import { namedOutputs, referenceExecutor } from '../../runtime/run-model.ts';
import { openSafetensors } from '../../runtime/safetensors/index.ts';
import { relativeL2 } from '../helpers/compare.ts';
import { runOnHost } from '../helpers/cuda-host.ts';
import { attentionCases, attentionGraph, attentionInputs, type AttentionCase } from '../helpers/attention-cases.ts';
import { fixtureDirs, fixtureRun, importedSpec } from '../helpers/fixtures.ts';
import { pool } from '../helpers/pool.ts';
import { productsGraph, random } from '../helpers/products.ts';
import { scratch } from '../helpers/spec.ts';

const gxx = spawnSync('g++', ['--version']).status === 0;
const run = pool(2);

/** The program's parameters as a bf16 (f16) program stores them: its 16-bit ones rounded. */
function asStored(program: KernelProgram, bf16: string[], params: (source: string) => Float32Array, precision: Precision = 'bf16') {
  const rounded = new Set(program.buffers.filter((b) => bf16.includes(b.name)).map((b) => b.source));
  const round = precision === 'f16' ? (x: Float32Array) => Float32Array.from(toHalf(x), halfValue) : roundToBf16;
  return (source: string) => (rounded.has(source) ? round(params(source)) : params(source));
}

function prepare(dir: string, precision: Precision) {
  const spec = importedSpec(dir);
  const graph = runPipeline(lowerModel(spec));
  // As the CUDA runtime runs it: the dispatch as its parallel passes, the routers' softmax/top-k fused.
  const program = cudaKernelProgram(graph);
  const { weights, ids, sizes } = fixtureRun(dir, spec, graph);
  const data = (name: string) => {
    const b = program.buffers.find((x) => x.name === name)!;
    if (b.kind === 'param') return weights.get(b.source)!.data;
    if (b.kind === 'input') return ids[b.source];
    if (b.kind === 'const') return b.dtype === 'f32' ? Float32Array.from(b.data!) : Int32Array.from(b.data!);
    return undefined;
  };
  const cuda = renderProgram(program, { precision });
  const out = run(() => runOnHost(program, cuda, data, sizes, join(scratch, 'cuda-host', `${dir.split('/').pop()!}-${precision}`)));
  // Not awaited here: every fixture compiles and runs while the first is checked.
  out.catch(() => {});
  // The reference executor on the weights as stored (bf16 ones rounded): what the program computes but for x's rounding.
  const stored = asStored(program, cuda.bf16, (n) => weights.get(n)!.data as Float32Array, precision);
  const asWeights = new Map([...weights].map(([n, w]) => [n, { ...w, data: stored(n) }]));
  const ref = new Map(namedOutputs(graph, referenceExecutor(graph)(asWeights, ids, sizes), sizes).map((o) => [o.name, o]));
  return { out, ref, want: openSafetensors(join(dir, 'reference.safetensors')).readF32('logits') };
}

/** The fraction of the reference's expert choices the run made too. */
function sameChoices(out: Record<string, ArrayLike<number>>, ref: Map<string, { data: ArrayLike<number> }>): number {
  let same = 0;
  let total = 0;
  for (const [n, o] of ref) {
    if (!n.startsWith('expert_indices.')) continue;
    for (let i = 0; i < o.data.length; i++, total++) if (out[n]![i] === o.data[i]) same++;
  }
  expect(total).toBeGreaterThan(0);
  return same / total;
}

if (!gxx) it.skip('g++ is not on PATH: the CUDA C is NOT run on the CPU', () => {});

describe.runIf(gxx).each(gxx ? fixtureDirs() : [])('%s', (dir) => {
  const f = prepare(dir, 'f32');
  const h = prepare(dir, 'bf16');
  // f16 on two of the fixtures (the others add a minute and nothing the two do not cover).
  const half = /mixtral|deepseek_v3/.test(dir) ? prepare(dir, 'f16') : undefined;
  it('CUDA C run on the CPU: logits within 1e-4 of transformers, the same experts as the reference executor', async () => {
    const out = await f.out;
    expect(relativeL2(out.logits as Float32Array, f.want)).toBeLessThan(1e-4);
    const choices = [...f.ref.keys()].filter((n) => n.startsWith('expert_indices.'));
    expect(choices.length).toBeGreaterThan(0);
    for (const n of choices) expect(Array.from(out[n]!), n).toEqual(Array.from(f.ref.get(n)!.data));
  }, 300_000);

  // Measured: 1.7e-3 … 2.0e-2 of the reference on the rounded weights (x's rounding), 2.4e-3 … 6.8e-2 of transformers
  // (Switch's the most), and 126 of Mixtral's 128 choices (two near-ties), all of the others'.
  it('bf16 (tensor-core matmuls) on the CPU: logits within bf16 tolerance, nearly all the same experts', async () => {
    const out = await h.out;
    expect(relativeL2(out.logits as Float32Array, h.ref.get('logits')!.data)).toBeLessThan(4e-2);
    expect(relativeL2(out.logits as Float32Array, h.want)).toBeLessThan(1.5e-1);
    expect(sameChoices(out, h.ref)).toBeGreaterThan(0.95);
  }, 300_000);

  if (half) it('f16 (tensor-core matmuls) on the CPU: logits within f16 tolerance, the same experts', async () => {
    const out = await half!.out;
    const vsRef = relativeL2(out.logits as Float32Array, half!.ref.get('logits')!.data);
    const vsHf = relativeL2(out.logits as Float32Array, half!.want);
    console.log(`${dir.split('/').pop()} f16: ${vsRef.toExponential(2)} of the reference on the rounded weights, ${vsHf.toExponential(2)} of transformers`);
    expect(vsRef).toBeLessThan(1e-2);
    expect(vsHf).toBeLessThan(2e-2);
    expect(sameChoices(out, half!.ref)).toBeGreaterThan(0.95);
  }, 300_000);
});

describe.runIf(gxx)('the f16 conversions of an f16 program\'s source', () => {
  // Every f16 to f32, and f32 to f16 at the edges (subnormals, ties, 65504 and 65520, ∞, NaN) and on random floats
  // of every magnitude, against runtime/half.ts (the uploads' conversion, itself checked exhaustively).
  it('match the runtime\'s: moec_f16 on all 65536 words, moec_to_f16 at every edge', async () => {
    const dir = join(scratch, 'cuda-host', 'f16-conversions');
    mkdirSync(dir, { recursive: true });
    const rand = mulberry32(5);
    const edges = [0, -0, 1, -1, 65504, 65519.99, 65520, 70000, -65520, Infinity, -Infinity, NaN, 2 ** -14, 2 ** -24, 2 ** -25, 2 ** -25 * 1.0001, 3 * 2 ** -25, 2 ** -26, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 6.1e-5, 1e-8];
    const floats = Float32Array.from([...edges, ...Array.from({ length: 4000 }, () => (rand() - 0.5) * 2 ** Math.floor(rand() * 60 - 30))]);
    writeFileSync(join(dir, 'in.bin'), new Uint8Array(floats.buffer));
    const source = `#include <cmath>
#include <cstdio>
#include <cstring>
#define __device__
#define __forceinline__ inline
inline float __uint_as_float(unsigned i) { float f; std::memcpy(&f, &i, 4); return f; }
inline unsigned __float_as_uint(float f) { unsigned i; std::memcpy(&i, &f, 4); return i; }
${bf16Helpers}
int main() {
  static float in[${floats.length}];
  FILE* f = std::fopen("${join(dir, 'in.bin')}", "rb");
  std::fread(in, 4, ${floats.length}, f);
  std::fclose(f);
  for (int i = 0; i < ${floats.length}; i++) std::printf("%u\\n", (unsigned)moec_to_f16(in[i]));
  for (unsigned h = 0; h < 65536; h++) { float v = moec_f16((unsigned short)h); unsigned b; std::memcpy(&b, &v, 4); std::printf("%u\\n", b); }
}
`;
    writeFileSync(join(dir, 'main.cpp'), source);
    expect(spawnSync('g++', ['-O1', '-o', join(dir, 'main'), join(dir, 'main.cpp')], { encoding: 'utf8' }).status).toBe(0);
    const lines = spawnSync(join(dir, 'main'), { encoding: 'utf8', maxBuffer: 1 << 24 }).stdout.trim().split('\n').map(Number);
    const toF16 = lines.slice(0, floats.length);
    expect(toF16).toEqual(Array.from(toHalf(floats)));
    const bits = new Uint32Array(new Float32Array(Array.from({ length: 65536 }, (_, h) => halfValue(h))).buffer);
    const got = lines.slice(floats.length);
    // NaNs: any NaN is a NaN (the payload is not compared).
    const isNaN32 = (b: number) => (b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff) !== 0;
    for (let h = 0; h < 65536; h++) if (!(isNaN32(got[h]!) && isNaN32(bits[h]!))) expect(got[h], `f16 word ${h}`).toBe(bits[h]);
  });
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

/** Grouped products over `experts` experts (a plain and a gated one), for the tensor-core matmul's tile walk. */
const groupedGraph = (experts: number, N: number, K: number) => parseGraph(`graph grouped {
  input %x: f32[rows, ${K}]
  input %offsets: i32[${experts + 1}]
  param @we: f32[${experts}, ${N}, ${K}]
  param @be: f32[${experts}, ${N}]
  param @wg: f32[${experts}, ${N}, ${K}]
  param @wu: f32[${experts}, ${N}, ${K}]
  %0 = grouped_linear(%x, @we, %offsets, @be) : f32[rows, ${N}]
  %1 = gated_grouped_linear(%x, @wg, @wu, %offsets) {act = "silu"} : f32[rows, ${N}]
  output plain = %0
  output gated = %1
}`);

/** Row counts of `experts` experts summing to `rows`: uneven, some empty, one past a 128-row tile where rows allow. */
function unevenOffsets(experts: number, rows: number): Int32Array {
  const weights = Array.from({ length: experts }, (_, e) => (e % 5 === 1 ? 0 : e % 7 === 3 ? 12 : 1 + (e % 3)));
  const total = weights.reduce((a, b) => a + b, 0);
  const counts = weights.map((w) => Math.floor((w * rows) / total));
  counts[experts - 1]! += rows - counts.reduce((a, b) => a + b, 0);
  const offsets = new Int32Array(experts + 1);
  counts.forEach((c, e) => (offsets[e + 1] = offsets[e]! + c));
  return offsets;
}

describe.runIf(gxx)('the tensor-core matmul (bf16), its PTX emulated', () => {
  /** The bf16 program and the loop nests on the same operands (weights rounded as stored, x pre-rounded so the
   * kernel's rounding of it changes nothing): equal but for the order of the f32 sums. */
  const check = (name: string, program: KernelProgram, params: Map<string, Float32Array>, inputs: Record<string, Float32Array | Int32Array>, rows: number, tiles?: Partial<MmaTiles>) => {
    const cuda = renderProgram(program, { precision: 'bf16', tiles });
    const data = (b: string) => {
      const buffer = program.buffers.find((x) => x.name === b)!;
      return buffer.kind === 'param' ? params.get(buffer.source) : buffer.kind === 'input' ? inputs[buffer.source] : undefined;
    };
    const out = run(() => runOnHost(program, cuda, data, { rows }, join(scratch, 'cuda-host', name)));
    out.catch(() => {});
    const want = runProgram(program, { params: asStored(program, cuda.bf16, (n) => params.get(n)!), inputs, sizes: { rows } });
    return { out, want };
  };
  const randomParams = (g: ReturnType<typeof parseGraph>) => new Map(g.params.map((p, s) => [p.name, random(p.type.shape.reduce<number>((a, d) => a * Number(d), 1), s + 1)]));

  // A smaller tall tile: 64×128 with 4 warps of 32×64, 2 stages, row tiles rastered in pairs (a partial last pair).
  const small: MmaTile = { bm: 64, bn: 128, warpsM: 2, warpsN: 2, stages: 2, minBlocks: 1, raster: 2 };
  // [rows, N, K]: element-by-element copies (K % 8 ≠ 0), grouped rows few enough for the short tiles, plain ones not;
  // 16-byte copies with every product on tall tiles, N past a tile and the gate's 128-column blocks; everything on
  // short tiles with K ending mid-step; one row. And the smaller tall tile.
  const products = (gxx ? [[130, 72, 37], [300, 200, 64], [40, 136, 48], [1, 24, 16], [300, 200, 64, 1]] : []).map(([rows, N, K, wide]) => {
    const g = productsGraph(N!, K!);
    const third = Math.floor(rows! / 3);
    const inputs = { x: roundToBf16(random(rows! * K!, 99)), offsets: Int32Array.from([0, third, third, rows!]) };
    const tiles = { grouped: rows! < 3 * shortBelow ? 'short' : 'tall', plain: rows! < shortBelow ? 'short' : 'tall' };
    const name = `rows ${rows}, width ${N}, inner ${K} (grouped ${tiles.grouped}, plain ${tiles.plain}${wide ? ', 64×128 tiles' : ''})`;
    return { name, ...check(`bf16-products-${rows}-${N}-${K}${wide ? '-wide' : ''}`, scheduleGraph(g), randomParams(g), inputs, rows!, wide ? { tall: small } : undefined) };
  });
  it.runIf(gxx).each(products)('$name: the loop nests\' outputs', async (c) => {
    const got = await c.out;
    for (const o of ['experts', 'plain']) expect(relativeL2(got[o] as Float32Array, c.want[o] as Float32Array), o).toBeLessThan(1e-6);
    // y multiplies the gated product, which the kernel rounds to bf16 as it reads it and the loop nest does not.
    expect(relativeL2(got.y as Float32Array, c.want.y as Float32Array)).toBeLessThan(5e-3);
  }, 300_000);

  // 40 experts: the tile walk takes two rounds of 32 lanes; uneven experts, empty ones, one over a tall tile.
  const grouped = (gxx ? [[40 * shortBelow + 360, 'tall'], [600, 'short']] as const : []).map(([rows, tiles]) => {
    const g = groupedGraph(40, 20, 24);
    const inputs = { x: roundToBf16(random(rows * 24, 7)), offsets: unevenOffsets(40, rows) };
    return { name: `${rows} rows over 40 experts (${tiles} tiles)`, ...check(`bf16-grouped-${rows}`, scheduleGraph(g), randomParams(g), inputs, rows) };
  });
  it.runIf(gxx).each(grouped)('$name: the loop nests\' outputs', async (c) => {
    const got = await c.out;
    for (const o of ['plain', 'gated']) expect(relativeL2(got[o] as Float32Array, c.want[o] as Float32Array), o).toBeLessThan(1e-6);
  }, 300_000);
});

describe.runIf(gxx)('the fused attention', () => {
  // The shared cases at 70 tokens (two key tiles, five query blocks), and wide heads: two value columns per thread (value
  // 80) and the 8-query block (head 160).
  const wide: AttentionCase[] = [
    { name: 'causal, head 96, value 80, RoPE', attrs: 'causal = true, scale = 0.1, rope_theta = 10000.0, rope_rotary_dim = 96', d: 96, dv: 80, bias: false },
    { name: 'bidirectional, head 160, value 160', attrs: 'causal = false, scale = 0.08', d: 160, dv: 160, bias: false },
  ];
  const cases = (gxx ? [...attentionCases, ...wide] : []).map((c) => {
    const program = scheduleGraph(attentionGraph(c));
    const [batch, seq] = [1, 70];
    const inputs = attentionInputs(c, batch, seq);
    const sizes = { batch, seq };
    const data = (name: string) => {
      const b = program.buffers.find((x) => x.name === name)!;
      // The RoPE frequencies are a compile-time table.
      return b.kind === 'input' ? inputs[b.source] : b.kind === 'const' ? Float32Array.from(b.data!) : undefined;
    };
    const cuda = renderProgram(program);
    const out = run(() => runOnHost(program, cuda, data, sizes, join(scratch, 'cuda-host', `attention-${c.d}-${c.dv}-${c.bias}`)));
    out.catch(() => {});
    return { name: `${c.name}, ${seq} tokens`, fused: cuda.source.includes('as one fused kernel'), out, want: runProgram(program, { params: () => new Float32Array(0), inputs, sizes }) };
  });
  it.runIf(gxx).each(cases)('$name: the loop nest\'s outputs', async (c) => {
    expect(c.fused).toBe(true);
    expect(relativeL2((await c.out).y as Float32Array, c.want.y as Float32Array)).toBeLessThan(1e-5);
  }, 300_000);
});
