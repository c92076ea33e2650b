// The CUDA C renderer: the exact text of a small loop nest, the spellings that must read back as the same values,
// the tiled matmul's arguments and launch, and kernels of the same code sharing one function.
import { describe, expect, it } from 'vitest';
import { add, f, fvar, i, ivar, letF, load, loop, mul, par, select, set, size, store, toF, toI, un, bin } from '../../compiler/kernel/expr.ts';
import type { Kernel } from '../../compiler/kernel/ir.ts';
import { scheduleGraph } from '../../compiler/kernel/schedule.ts';
import { parseGraph } from '../../compiler/ir/parse.ts';
import { evalExtent } from '../../codegen/grid.ts';
import { renderKernel, renderProgram } from '../../targets/cuda/render.ts';
import { cudaFloat, cudaInt } from '../../targets/cuda/spelling.ts';
import { groupedGemm } from '../../targets/cuda/grouped-gemm.ts';
import { hopperTile, shortTile, tallTile, type MmaTile } from '../../targets/cuda/mma-gemm.ts';
import { productsGraph } from '../helpers/products.ts';
import { fuseRouters } from '../../compiler/kernel/fuse-router.ts';
import { shapeInference } from '../../compiler/passes/shape-inference.ts';
import { isNarrow } from '../../targets/cuda/narrow-gemm.ts';

/** y[r] = sqrt(Σ_j x[r, j]) over rows r: one grid loop and a serial loop in each thread. */
const rowNorm: Kernel = {
  name: 'k0_row_norm', ops: ['row_norm'], loc: 'test',
  buffers: [{ name: 'x', dtype: 'f32', size: '4*rows', access: 'read' }, { name: 'y', dtype: 'f32', size: 'rows', access: 'write' }],
  body: [par('r', size('rows'), [
    letF('s', f(0)),
    loop('j', i(4), [set('s', add(fvar('s'), load('x', add(mul(ivar('r'), i(4)), ivar('j')))))]),
    store('y', ivar('r'), un('sqrt', fvar('s'))),
  ])],
};

describe('loop nests', () => {
  it('renders a kernel as one thread per grid iteration, the rest as written', () => {
    const fn = renderKernel(rowNorm, ['rows']);
    expect(fn.comment).toBe('// k0_row_norm  (test): row_norm');
    expect(fn.code).toBe(`extern "C" __global__ void __launch_bounds__(256) k0_row_norm(const float* __restrict__ b0, float* __restrict__ b1, const moec_sizes sizes) {
  const int flat = (int)(blockIdx.x * 256u + threadIdx.x);
  int l_r = 0;
  float l_s = 0.0f;
  int l_j = 0;
  if (flat >= (sizes.v[0])) { return; }
  int rest = flat;
  l_r = rest;
  l_s = 0.0f;
  {
    const int end0 = 4;
    for (l_j = 0; l_j < end0; l_j++) {
      l_s = (l_s + b0[((l_r * 4) + l_j)]);
    }
  }
  b1[l_r] = sqrtf(l_s);
}
`);
  });

  it('launches ⌈grid total / 256⌉ blocks of 256 threads, none when the total is 0', () => {
    const { launch } = renderKernel(rowNorm, ['rows']);
    expect(launch.block).toEqual([256, 1, 1]);
    expect(launch.grid.map((e) => evalExtent(e, { rows: 1000 }))).toEqual([4, 1, 1]);
    expect(launch.grid.map((e) => evalExtent(e, { rows: 256 }))).toEqual([1, 1, 1]);
    expect(evalExtent(launch.grid[0]!, { rows: 0 })).toBe(0);
  });

  it('decodes several grid loops from the flat index, the last varying fastest; a kernel with none runs on thread 0', () => {
    const twoLoops: Kernel = { ...rowNorm, body: [par('a', size('rows'), [par('b', i(3), [store('y', ivar('a'), toF(ivar('b')))])])] };
    const fn = renderKernel(twoLoops, ['rows']);
    expect(fn.code).toContain('  if (flat >= (sizes.v[0]) * (3)) { return; }\n  int rest = flat;\n  l_b = rest % (3);\n  rest = rest / (3);\n  l_a = rest;\n  b1[l_a] = (float)(l_b);\n');
    expect(evalExtent(fn.launch.grid[0]!, { rows: 100 })).toBe(2);
    const serial = renderKernel({ ...rowNorm, body: [store('y', i(0), f(1))] }, ['rows']);
    expect(serial.code).toContain('  if (flat != 0) { return; }\n  b1[0] = 1.0f;\n');
    expect(serial.launch.grid.map((e) => evalExtent(e, {}))).toEqual([1, 1, 1]);
  });

  it("spells the kernel IR's operators with CUDA's math library and C's operators", () => {
    const v = fvar('v');
    const k: Kernel = {
      ...rowNorm,
      buffers: [...rowNorm.buffers, { name: 'ids', dtype: 'i32', size: 'rows', access: 'readwrite' }],
      body: [letF('v', f(0.5)), store('y', i(0), bin('max', un('erf', v), bin('min', un('exp', v), select(bin('<', v, f(-Infinity)), un('rsqrt', v), un('neg', un('tanh', v)))))), store('ids', i(1), bin('max', toI(v), bin('%', i(7), i(-2))))],
    };
    const code = renderKernel(k, ['rows']).code;
    expect(code).toContain('int* __restrict__ b2');
    expect(code).toContain('b1[0] = fmaxf(erff(l_v), fminf(expf(l_v), ((l_v < (-__int_as_float(0x7f800000))) ? rsqrtf(l_v) : (-tanhf(l_v)))));');
    expect(code).toContain('b2[1] = max((int)(l_v), (7 % (-2)));');
  });
});

describe('literals', () => {
  it('writes f32 constants as the shortest decimal that reads back as the same f32', () => {
    expect(cudaFloat(1e-5)).toBe('0.00001f');
    expect(cudaFloat(1e-6)).toBe('0.000001f');
    expect(cudaFloat(0.1)).toBe('0.1f');
    expect(cudaFloat(3)).toBe('3.0f');
    expect(cudaFloat(-2.5)).toBe('(-2.5f)');
    expect(cudaFloat(1e30)).toBe('1e+30f');
    expect(cudaFloat(Math.fround(Math.PI))).toBe('3.1415927f');
    expect(cudaFloat(-0)).toBe('(-0.0f)');
    expect(cudaFloat(Infinity)).toBe('__int_as_float(0x7f800000)');
    expect(cudaFloat(NaN)).toBe('__int_as_float(0x7fffffff)');
    for (const x of [1e-5, 0.1, Math.PI, 1 / 3, 6.02e23, 1.17549435e-38, 3.4028234e38]) {
      expect(Math.fround(Number(cudaFloat(x).replace(/^\(|f\)?$/g, '')))).toBe(Math.fround(x));
    }
  });

  it('writes i32 constants, negative ones in parentheses', () => {
    expect(cudaInt(42)).toBe('42');
    expect(cudaInt(-1)).toBe('(-1)');
    expect(cudaInt(-2147483648)).toBe('(-2147483647 - 1)');
  });
});

describe('matrix products', () => {
  const program = scheduleGraph(productsGraph(72, 37));
  const cuda = renderProgram(program);
  const launch = (op: string) => cuda.kernels[program.kernels.findIndex((k) => k.ops[0] === op)]!.launch;

  it('runs gemm kernels as the tiled matmul with N and K as arguments, experts on grid z', () => {
    expect(launch('linear')).toMatchObject({ block: [256, 1, 1], ints: [72, 37] });
    expect(launch('linear').grid.map((e) => evalExtent(e, { rows: 130 }))).toEqual([1, 2, 1]);
    expect(launch('grouped_linear').grid.map((e) => evalExtent(e, { rows: 130 }))).toEqual([1, 2, 3]);
    expect(launch('linear_add').ints).toEqual([72, 72]);
    expect(cuda.source).toContain('const moec_sizes sizes, const int N, const int K) {');
  });

  it('renders the epilogue from the kernel-IR expression: bias by expert, activation, gate, residual', () => {
    const fn = (op: string) => cuda.functions.find((f) => f.entry === cuda.kernels[program.kernels.findIndex((k) => k.ops[0] === op)]!.entry)!.code;
    expect(fn('linear')).toMatch(/b\d\[\(long long\)l_row \* N \+ l_n\] = \(\(0\.5f \* \(l_v \+ b\d\[\(\(l_e \* N\) \+ l_n\)\]\)\) \* \(1\.0f \+ erff\(/);
    expect(fn('gated_linear')).toContain('const float l_u = accU[i][j];');
    expect(fn('gated_linear')).toMatch(/= \(\(l_v \/ \(1\.0f \+ expf\(\(-l_v\)\)\)\) \* l_u\);/);
    expect(fn('linear_add')).toMatch(/= \(l_v \+ b\d\[\(\(l_row \* N\) \+ l_n\)\]\);/);
    expect(fn('grouped_linear')).toMatch(/const int r0 = b\d\[l_e\];\n  const int rows = \(b\d\[\(l_e \+ 1\)\] - b\d\[l_e\]\);/);
  });

  it('renders them as loop nests when asked', () => {
    const nests = renderProgram(program, { tiled: false });
    expect(nests.source).not.toContain('__shared__');
    expect(nests.kernels.every((k) => !k.launch.ints)).toBe(true);
  });
});

it('kernels with the same code share one function, named after the first', () => {
  const g = parseGraph(`graph twins {
  input %x: f32[rows, 8]
  param @w1: f32[16, 8]
  param @w2: f32[16, 8]
  %0 = linear(%x, @w1) : f32[rows, 16]
  %1 = linear(%x, @w2) : f32[rows, 16]
  %2 = relu(%0) : f32[rows, 16]
  %3 = relu(%1) : f32[rows, 16]
  output a = %2
  output b = %3
}`);
  const cuda = renderProgram(scheduleGraph(g));
  expect(cuda.kernels.map((k) => k.entry)).toEqual(['k0_linear', 'k0_linear', 'k2_relu', 'k2_relu']);
  expect(cuda.functions.map((f) => f.entry)).toEqual(['k0_linear', 'k2_relu']);
  expect(cuda.source).toContain('// k0_linear: linear (N 16, K 8) as a narrow matmul, 8 rows a warp; the same code runs 1 more kernel\nextern "C" __global__ void __launch_bounds__(256) k0_linear(');
  expect(cuda.source).toContain('// The run-time sizes, in this order: rows.\nstruct moec_sizes { int v[1]; };');
  expect(cuda.source.match(/extern "C"/g)).toHaveLength(2);
});

describe('bf16 precision', () => {
  const program = scheduleGraph(productsGraph(72, 40));
  const cuda = renderProgram(program, { precision: 'bf16' });
  const launches = (op: string) => cuda.kernels.filter((k) => k.name === program.kernels.find((x) => x.ops[0] === op)!.name);
  const fn = (entry: string) => cuda.functions.find((f) => f.entry === entry)!.code;
  const bufferNamed = (source: string) => program.buffers.find((b) => b.kind === 'param' && b.source === source)!.name;

  it("stores every matmul's weights as bf16 words, and the gated product only the next matmul reads", () => {
    expect(cuda.precision).toBe('bf16');
    const gated = program.kernels.find((x) => x.ops[0] === 'gated_linear')!.gemm!.out;
    expect(cuda.bf16.sort()).toEqual([...['w', 'wg', 'wu', 'r', 'we'].map(bufferNamed), gated].sort());
    // Biases stay f32; weights are raw 16-bit words (NVRTC has no cuda_bf16.h to include).
    const k = program.kernels.find((x) => x.ops[0] === 'grouped_linear')!;
    const param = (name: string) => `b${k.buffers.findIndex((b) => b.name === name)}`;
    const code = fn(launches('grouped_linear')[0]!.entry);
    expect(code).toContain(`const unsigned short* __restrict__ ${param(bufferNamed('we'))},`);
    expect(code).toContain(`const float* __restrict__ ${param(bufferNamed('be'))},`);
    expect(renderProgram(program).bf16).toEqual([]);
    expect(renderProgram(program).precision).toBe('f32');
  });

  it('keeps a router\'s product in f32, on the narrow matmul (Switch\'s selective precision)', () => {
    const g = parseGraph(`graph routed {
  input %x: f32[rows, 8]
  param @moe.router.weight: f32[4, 8]
  param @moe.proj.weight: f32[16, 8]
  %0 = linear(%x, @moe.router.weight) : f32[rows, 4]
  %1 = linear(%x, @moe.proj.weight) : f32[rows, 16]
  output logits = %0
  output y = %1
}`);
    const p = scheduleGraph(g);
    const c = renderProgram(p, { precision: 'bf16' });
    expect(c.bf16).toEqual([p.buffers.find((b) => b.source === 'moe.proj.weight')!.name]);
    expect(c.kernels.map((k) => k.entry)).toEqual(['k0_linear', 'k1_linear', 'k1_linear_short']);
    expect(c.functions[0]!.code).toContain('acc[r][n] += __shfl_xor_sync(0xffffffffu, acc[r][n], o);');
    expect(c.functions[0]!.code).toContain('const float* __restrict__ w = b1;');
    expect(c.functions[1]!.code).toContain('moec_mma_bf16(acc[i][j], af[i], bf[j][0], bf[j][1]);');
  });

  it('renders each gemm as tall and short tiles, one launched at any size: short below 64 rows per expert', () => {
    for (const op of ['linear', 'gated_linear', 'linear_add', 'grouped_linear']) {
      const [tall, short] = launches(op);
      expect(short!.entry).toBe(`${tall!.entry}_short`);
      expect(tall!.launch).toMatchObject({ block: [256, 1, 1], ints: [72, op === 'linear_add' ? 72 : 40] });
      expect(short!.launch.block).toEqual([128, 1, 1]);
      const threshold = op === 'grouped_linear' ? 3 * 64 : 64;
      for (const rows of [1, threshold - 1, threshold, 5000]) {
        const runs = [tall, short].map((l) => evalExtent(l!.launch.when!, { rows }));
        expect(runs, `${op} at ${rows} rows`).toEqual(rows < threshold ? [0, 1] : [1, 0]);
      }
    }
  });

  it('grids: column blocks × row tiles on one axis; grouped row tiles are packed over the experts', () => {
    const grid = (op: string, variant: number, rows: number) => launches(op)[variant]!.launch.grid.map((e) => evalExtent(e, { rows }));
    expect(grid('linear', 0, 1000)).toEqual([8, 1, 1]);
    expect(grid('linear', 1, 40)).toEqual([2, 1, 1]);
    // Gated: half the weight rows in outputs (the gate's and the up projection's rows interleave): 64 a short block.
    expect(grid('gated_linear', 0, 1000)).toEqual([8, 1, 1]);
    expect(grid('gated_linear', 1, 40)).toEqual([4, 1, 1]);
    // ⌈rows / BM⌉ + one partial tile per expert: 16 tokens over 3 experts launch 4 short tiles, not 3 × a full grid.
    expect(grid('grouped_linear', 1, 16)).toEqual([4, 1, 1]);
    expect(grid('grouped_linear', 0, 1000)).toEqual([11, 1, 1]);
    // Dynamic shared memory: the stages and 1 KiB of alignment.
    expect(launches('linear')[0]!.launch.shared).toBe(3 * (128 + 256) * 128 + 1024);
    expect(launches('linear')[1]!.launch.shared).toBe(4 * (32 + 128) * 128 + 1024);
  });

  it('rasters the blocks: 8 row tiles at a time for tall tiles, walking those first; every row tile of a column block for short ones', () => {
    expect(fn(launches('linear')[0]!.entry)).toContain('const int per = 8;');
    expect(fn(launches('linear')[1]!.entry)).toContain('const int per = rowTiles;');
  });

  it('finds a grouped tile\'s expert from the offsets, a warp\'s lanes 32 experts at a time', () => {
    const code = fn(launches('grouped_linear')[0]!.entry);
    expect(code).toMatch(/const int start = l_e < 3 \? b\d\[l_e\] : 0;/);
    expect(code).toContain('__ballot_sync(0xffffffffu, through > t)');
    expect(code).toContain('int t = tile;');
    expect(fn(launches('linear')[0]!.entry)).toContain('const int m0 = tile * BM;\n  if (m0 >= rows) { return; }');
  });

  it('runs the epilogue in f32 on the accumulators: bias by expert, activation, the gate\'s second accumulator, residual', () => {
    expect(fn(launches('gated_linear')[0]!.entry)).toContain('const float l_u = acc[i][j + NI / 2][q];');
    // Rounded to bf16 as stored: only the next matmul reads the gated product.
    expect(fn(launches('gated_linear')[0]!.entry)).toMatch(/= moec_to_bf16\(\(\(l_v \/ \(1\.0f \+ expf\(\(-l_v\)\)\)\) \* l_u\)\);/);
    expect(fn(launches('linear_add')[1]!.entry)).toMatch(/= \(l_v \+ b\d\[\(\(l_row \* N\) \+ l_n\)\]\);/);
    expect(fn(launches('grouped_linear')[0]!.entry)).toMatch(/b4\[\(long long\)l_row \* N \+ l_n\] = fmaxf\(\(l_v \+ b3\[\(\(l_e \* N\) \+ l_n\)\]\), 0\.0f\);/);
  });

  it('defines the bf16 helpers and PTX once, at the top of a bf16 source only', () => {
    expect(cuda.source).toContain('// products: CUDA C generated by moec, bf16 weights');
    expect(cuda.source.match(/__device__ __forceinline__ void moec_mma_bf16\(/g)).toHaveLength(1);
    expect(cuda.source).toContain('mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32');
    expect(cuda.source).toContain('ldmatrix.sync.aligned.m8n8.x4.shared.b16');
    expect(cuda.source).toContain('cp.async.cg.shared.global');
    expect(cuda.source).not.toContain('#include');
    expect(renderProgram(program).source).not.toMatch(/moec_(bf16|mma|smem)/);
  });

  it('loop nests read bf16 weights as the f32 they hold', () => {
    const nests = renderProgram(program, { precision: 'bf16', tiled: false });
    const k = program.kernels.findIndex((x) => x.ops[0] === 'linear');
    const code = nests.functions.find((f) => f.entry === nests.kernels[k]!.entry)!.code;
    expect(code).toMatch(/moec_bf16\(b1\[/);
    expect(code).toContain('const unsigned short* __restrict__ b1');
  });
});

it('renders a standalone grouped bf16 matmul for kernel benchmarks (Mixtral\'s gate and up projections)', () => {
  const { program, cuda } = groupedGemm({ N: 14336, K: 4096, experts: 8, gated: true });
  expect(program.kernels.map((k) => k.ops[0])).toEqual(['gated_grouped_linear']);
  expect(cuda.bf16.map((b) => program.buffers.find((x) => x.name === b)!.source)).toEqual(['w', 'wu']);
  expect(cuda.kernels.map((k) => k.entry)).toEqual(['k0_gated_grouped_linear', 'k0_gated_grouped_linear_short']);
  // 112 column blocks of 128 outputs × (64 + 8) row tiles; 224 of 64 × (1 + 8).
  expect(cuda.kernels[0]!.launch.grid.map((e) => evalExtent(e, { rows: 8192 }))).toEqual([112 * 72, 1, 1]);
  expect(cuda.kernels[1]!.launch.grid.map((e) => evalExtent(e, { rows: 32 }))).toEqual([224 * 9, 1, 1]);
});

it('takes other tile shapes for tuning, and refuses ones that do not fit', () => {
  const program = scheduleGraph(productsGraph(72, 40));
  const small: MmaTile = { bm: 64, bn: 128, warpsM: 2, warpsN: 2, stages: 2, minBlocks: 1, raster: 2 };
  const other = renderProgram(program, { precision: 'bf16', tiles: { tall: small } });
  expect(other.kernels[0]!.launch).toMatchObject({ block: [128, 1, 1], shared: 2 * 192 * 128 + 1024 });
  expect(other.functions[0]!.code).toContain('constexpr int NI = 8;');
  expect(() => renderProgram(program, { precision: 'bf16', tiles: { tall: { ...tallTile, stages: 5 } } })).toThrow('5 stages of 384 rows of 128 bytes take 246784 bytes of shared memory, past the 232448 a block may have');
  expect(() => renderProgram(program, { precision: 'bf16', tiles: { short: { ...shortTile, bm: 24 } } })).toThrow('warp tiles must be whole m16 × n16 tiles');
  expect(() => renderProgram(program, { precision: 'bf16', tiles: { tall: hopperTile } })).toThrow('wgmma needs sm_90a, and the program is rendered for sm_80');
  expect(() => renderProgram(program, { precision: 'bf16', arch: 'sm_90a', tiles: { tall: { ...hopperTile, bm: 96 } } })).toThrow('wgmma tiles are 64-row warpgroup tiles');
});

describe('bf16 on sm_90a', () => {
  const program = scheduleGraph(productsGraph(72, 40));
  const cuda = renderProgram(program, { precision: 'bf16', arch: 'sm_90a' });
  const tall = cuda.kernels.filter((k) => !k.entry.endsWith('_short'));
  const code = (entry: string) => cuda.functions.find((f) => f.entry === entry)!.code;

  it('multiplies tall tiles with wgmma: two warpgroups of 64 × 256, 4 stages of dynamic shared memory', () => {
    expect(cuda.arch).toBe('sm_90a');
    for (const k of tall) {
      expect(k.launch).toMatchObject({ block: [256, 1, 1], shared: 4 * 384 * 128 + 1024 });
      expect(code(k.entry)).toContain('moec_wgmma_bf16_m64n256(acc, moec_wgmma_desc(a + ks * 32), moec_wgmma_desc(b + ks * 32));');
      expect(code(k.entry)).toContain('constexpr int AHEAD = 2;');
    }
    // Short tiles stay on mma.sync (32 rows: half a warpgroup's 64).
    for (const k of cuda.kernels.filter((x) => x.entry.endsWith('_short'))) expect(code(k.entry)).toContain('moec_mma_bf16(');
    expect(cuda.source.match(/__device__ __forceinline__ void moec_wgmma_bf16_m64n256\(/g)).toHaveLength(1);
    expect(cuda.source.match(/__device__ __forceinline__ unsigned long long moec_wgmma_desc\(/g)).toHaveLength(1);
    expect(renderProgram(program, { precision: 'bf16' }).source).not.toMatch(/moec_wgmma_|wgmma\.mma_async/);
  });

  it('a gated tile holds the gate in accumulators 0 … 63 and the up projection in 64 … 127', () => {
    const gated = tall.find((k) => k.name === program.kernels.find((x) => x.ops[0] === 'gated_linear')!.name)!;
    expect(code(gated.entry)).toContain('const float l_u = acc[(j + BN / 16) * 4 + q];');
    expect(code(gated.entry)).toContain('const int n = n0 + (r / GROUP) * (GROUP / 2) + r % (GROUP / 2);');
    expect(code(gated.entry)).toContain('constexpr int GROUP = 256;');
  });
});

it('a loop nest writing an activation only matmuls read stores it as bf16; one that another kernel reads stays f32', () => {
  const g = parseGraph(`graph normed {
  input %x: f32[rows, 64]
  param @n: f32[64]
  param @w: f32[32, 64]
  %0 = rms_norm(%x, @n) {eps = 1e-05} : f32[rows, 64]
  %1 = linear(%0, @w) : f32[rows, 32]
  %2 = rms_norm(%x, @n) {eps = 1e-06} : f32[rows, 64]
  %3 = linear(%2, @w) : f32[rows, 32]
  %4 = add(%2, %x) : f32[rows, 64]
  output y = %1
  output z = %3
  output s = %4
}`);
  const p = scheduleGraph(g);
  const c = renderProgram(p, { precision: 'bf16' });
  const norms = p.kernels.filter((k) => k.ops[0] === 'rms_norm');
  expect(norms).toHaveLength(2);
  const normCode = (k: Kernel) => c.functions.find((f) => f.entry === c.kernels.find((x) => x.name === k.name)!.entry)!.code;
  const written = (k: Kernel) => k.buffers.find((b) => b.access === 'write')!.name;
  expect(c.bf16).toContain(written(norms[0]!));
  expect(c.bf16).not.toContain(written(norms[1]!));
  expect(normCode(norms[0]!)).toMatch(/\] = moec_to_bf16\(/);
  expect(normCode(norms[0]!)).toContain('unsigned short* __restrict__');
  expect(normCode(norms[1]!)).not.toContain('moec_to_bf16');
  // The matmul reading it copies x's tiles with cp.async; the other rounds f32 x as it stores it.
  const linear = (i: number) => c.functions.find((f) => f.entry === c.kernels.find((x) => x.name === p.kernels.filter((k) => k.ops[0] === 'linear')[i]!.name)!.entry)!.code;
  expect(linear(0)).toContain('auto loadX = [&](int stage, int kt) {');
  expect(linear(1)).toContain('auto storeX = [&](int stage) {');
});

it('takes products of at most 64 outputs a row to the narrow matmul: R rows a warp with R × N ≤ 128, 8 warps a block', () => {
  const g = (n: number) => scheduleGraph(parseGraph(`graph router {
  input %x: f32[rows, 40]
  param @w: f32[${n}, 40]
  param @b: f32[${n}]
  %0 = linear(%x, @w, @b) : f32[rows, ${n}]
  output y = %0
}`));
  for (const [n, r] of [[8, 8], [60, 2], [64, 2]] as const) {
    const c = renderProgram(g(n));
    expect(c.functions[0]!.comment).toContain(`as a narrow matmul, ${r} rows a warp`);
    expect(c.kernels[0]!.launch.grid.map((e) => evalExtent(e, { rows: 1000 }))).toEqual([Math.ceil(1000 / (8 * r)), 1, 1]);
    // The bias by expert reads l_e, which the narrow matmul defines as 0.
    expect(c.functions[0]!.code).toContain('const int l_e = 0;');
  }
  expect(renderProgram(g(65)).functions[0]!.comment).toContain('as a tiled matmul');
});

describe('f16 precision', () => {
  const program = scheduleGraph(productsGraph(72, 40));
  it('is bf16 with f16 words: the same buffers, f16 products, conversions and reads', () => {
    const f16 = renderProgram(program, { precision: 'f16' });
    const bf16 = renderProgram(program, { precision: 'bf16' });
    expect(f16.precision).toBe('f16');
    expect(f16.bf16).toEqual(bf16.bf16);
    expect(f16.source).toContain('// products: CUDA C generated by moec, f16 weights');
    const gemms = f16.functions.filter((f) => f.code.includes('moec_mma_'));
    expect(gemms.length).toBeGreaterThan(0);
    for (const f of gemms) expect(f.code).not.toMatch(/moec_(mma|pack|to)_bf16/);
    expect(f16.source).toContain('moec_mma_f16(acc[i][j], af[i], bf[j][0], bf[j][1]);');
    expect(f16.source).toContain('= moec_to_f16(');
    expect(renderProgram(program, { precision: 'f16', tiled: false }).source).toMatch(/moec_f16\(b\d\[/);
  });

  it('multiplies tall tiles with wgmma on f16 operands on sm_90a', () => {
    const c = renderProgram(program, { precision: 'f16', arch: 'sm_90a' });
    expect(c.source).toContain('wgmma.mma_async.sync.aligned.m64n256k16.f32.f16.f16');
    expect(c.source).not.toContain('.f32.bf16.bf16 {');
    expect(c.source.match(/__device__ __forceinline__ void moec_wgmma_f16_m64n256\(/g)).toHaveLength(1);
  });
});

it('renders a router fused with its softmax_topk as one narrow matmul that writes the logits, probabilities, top-k and indices', () => {
  const p = fuseRouters(scheduleGraph(shapeInference.run(parseGraph(`graph r {
  input %x: f32[rows, 16]
  param @w: f32[8, 16]
  %0 = linear(%x, @w) : f32[rows, 8]
  %1, %2, %3 = softmax_topk(%0) {k = 2, normalize = true}
  output logits = %0
  output v = %2
  output i = %3
}`))), isNarrow);
  const c = renderProgram(p);
  expect(c.kernels).toHaveLength(1);
  expect(c.functions[0]!.comment).toContain('linear, softmax_topk (N 8, K 16) as a narrow matmul, 8 rows a warp, then softmax and top-2');
  const code = c.functions[0]!.code;
  expect(code).toContain('const bool after = p[n] < pb || (p[n] == pb && pi < n);');
  expect(code).toContain('for (int j = 0; j < 2; j++) { picked[j] = picked[j] / total; }');
  expect(code).toMatch(/b0\[\(long long\)l_row \* N \+ l_n\] = l_v;|b\d\[\(long long\)l_row \* N \+ l_n\] = l_v;/);
});
