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
import { productsGraph } from '../helpers/products.ts';

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
  expect(cuda.source).toContain('// k0_linear: linear (N 16, K 8) as a tiled matmul; the same code runs 1 more kernel\nextern "C" __global__ void __launch_bounds__(256) k0_linear(');
  expect(cuda.source).toContain('// The run-time sizes, in this order: rows.\nstruct moec_sizes { int v[1]; };');
  expect(cuda.source.match(/extern "C"/g)).toHaveLength(2);
});
