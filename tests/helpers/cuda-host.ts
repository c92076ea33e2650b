// Runs a program's CUDA C on the CPU, for tests on machines without a GPU: g++ compiles the source with a shim of the
// CUDA built-ins it uses, and a generated main() binds the buffers and makes every launch the manifest describes.
// A launch of a function that synchronises (the tiled matmuls) runs its block's threads as std::threads meeting at a
// std::barrier, each walking every block in the same order; loop nests run their threads one after another. Fresh
// temporaries start as NaN (ints as -7), as in the kernel interpreter, so a missing write shows.
// The tensor-core matmul of bf16 mode runs too: its inline PTX (one helper per instruction, ptxHelpers) is replaced
// by an emulation of each instruction as the PTX ISA defines it, warp-wide ones (ldmatrix, mma, shuffles, ballots)
// by the warp's 32 threads exchanging their operands at a barrier of their own. cp.async copies at once, which is
// one of the orders the real one may take. bf16 parameters are uploaded as bf16 words, as the runtime does.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { evalDim } from '../../compiler/ir/dims.ts';
import type { KernelProgram } from '../../compiler/kernel/ir.ts';
import { evalExtent } from '../../codegen/grid.ts';
import type { CudaProgram } from '../../targets/cuda/render.ts';
import { ptxHelpers } from '../../targets/cuda/mma-templates.ts';
import { toBf16 } from '../../runtime/cuda/bf16.ts';
import { toHalf } from '../../runtime/half.ts';

type Storage = Float32Array | Int32Array;

const shim = `#include <algorithm>
#include <barrier>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>
#include <memory>
struct uint3_ { unsigned x, y, z; };
thread_local uint3_ blockIdx, threadIdx, gridDim;
thread_local std::barrier<>* blockBarrier;
#define __global__
#define __device__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __restrict__ __restrict
// One block runs at a time, so a block's shared memory can be a static.
#define __shared__ static
inline void __syncthreads() { blockBarrier->arrive_and_wait(); }
inline float __int_as_float(int i) { float f; std::memcpy(&f, &i, 4); return f; }
inline float __uint_as_float(unsigned i) { float f; std::memcpy(&f, &i, 4); return f; }
inline unsigned __float_as_uint(float f) { unsigned i; std::memcpy(&i, &f, 4); return i; }
inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
using std::max;
using std::min;

// A warp: its barrier and the slots its lanes exchange operands through.
struct Warp {
  std::barrier<> sync{32};
  const char* addr[32];
  unsigned a[32][4];
  unsigned b[32][2];
  int v[32];
};
thread_local Warp* warp;
thread_local int laneId;
/** Every lane publishes, then reads what it needs of the others' (the second wait keeps the slots until all have). */
template <class Publish, class Read> inline auto exchange(Publish publish, Read read) {
  publish(*warp);
  warp->sync.arrive_and_wait();
  auto r = read(*warp);
  warp->sync.arrive_and_wait();
  return r;
}
inline int __shfl_sync(unsigned, int v, int src) { return exchange([&](Warp& w) { w.v[laneId] = v; }, [&](Warp& w) { return w.v[src & 31]; }); }
inline int __shfl_up_sync(unsigned, int v, unsigned d) { return exchange([&](Warp& w) { w.v[laneId] = v; }, [&](Warp& w) { return laneId >= (int)d ? w.v[laneId - d] : v; }); }
inline float __shfl_xor_sync(unsigned, float v, int mask) {
  int bits;
  std::memcpy(&bits, &v, 4);
  const int r = exchange([&](Warp& w) { w.v[laneId] = bits; }, [&](Warp& w) { return w.v[laneId ^ mask]; });
  float f;
  std::memcpy(&f, &r, 4);
  return f;
}
inline unsigned __ballot_sync(unsigned, int p) {
  return exchange([&](Warp& w) { w.v[laneId] = p != 0; }, [&](Warp& w) { unsigned m = 0; for (int l = 0; l < 32; l++) m |= (unsigned)w.v[l] << l; return m; });
}
inline int __ffs(int x) { return __builtin_ffs(x); }

// The PTX helpers, emulated.
typedef const char* moec_shared_addr;
inline moec_shared_addr moec_smem(const void* p) { return (const char*)p; }
// Dynamic shared memory: a static of the size the launch gives, aligned already.
#define MOEC_DYNAMIC_SHARED(name, bytes) alignas(1024) static unsigned char name[bytes]
inline unsigned char* moec_align1024(unsigned char* p) { return p; }
inline unsigned bf16Rne(float f) {
  unsigned b;
  std::memcpy(&b, &f, 4);
  if ((b & 0x7f800000u) == 0x7f800000u && (b & 0x7fffffu)) return ((b >> 16) & 0x8000u) | 0x7fc0u;
  return ((b + 0x7fffu + ((b >> 16) & 1u)) >> 16) & 0xffffu;
}
inline unsigned moec_pack_bf16(float lo, float hi) { return bf16Rne(lo) | (bf16Rne(hi) << 16); }
// f16: the source's own conversions (its plain C++ helpers, defined below the shim).
unsigned short moec_to_f16(float f);
float moec_f16(unsigned short h);
inline unsigned moec_pack_f16(float lo, float hi) { return moec_to_f16(lo) | ((unsigned)moec_to_f16(hi) << 16); }
inline void moec_cp_async16(moec_shared_addr dst, const void* src, int bytes) { std::memset((char*)dst, 0, 16); std::memcpy((char*)dst, src, bytes); }
inline void moec_cp_async_commit() {}
template <int PENDING> inline void moec_cp_async_wait() {}
// ldmatrix .x4: lane l gets, of matrix j, row l/4 (its address from lane 8j + l/4), 32-bit word l%4.
inline void moec_ldmatrix_x4(unsigned (&r)[4], moec_shared_addr a) {
  exchange([&](Warp& w) { w.addr[laneId] = a; }, [&](Warp& w) {
    for (int j = 0; j < 4; j++) std::memcpy(&r[j], w.addr[8 * j + laneId / 4] + 4 * (laneId % 4), 4);
    return 0;
  });
}
inline float bf16Half(unsigned word, int high) { return __uint_as_float((high ? word >> 16 : word & 0xffffu) << 16); }
inline float f16Half(unsigned word, int high) { return moec_f16((unsigned short)(high ? word >> 16 : word & 0xffffu)); }
// mma.m16n8k16 .row.col bf16 (or f16) → f32: A[row][k] is in lane (row%8)·4 + (k%8)/2, register row/8 + 2·(k/8), half k%2;
// B[k][col] in lane col·4 + (k%8)/2, register k/8, half k%2; d[q] is row lane/4 + 8(q/2), column 2(lane%4) + q%2.
template <float (*HALF)(unsigned, int)> inline void mmaEmulated(float (&d)[4], const unsigned (&a)[4], unsigned b0, unsigned b1) {
  exchange([&](Warp& w) { std::memcpy(w.a[laneId], a, 16); w.b[laneId][0] = b0; w.b[laneId][1] = b1; }, [&](Warp& w) {
    for (int q = 0; q < 4; q++) {
      const int row = laneId / 4 + 8 * (q / 2), col = 2 * (laneId % 4) + q % 2;
      float s = d[q];
      for (int k = 0; k < 16; k++) {
        const float x = HALF(w.a[(row % 8) * 4 + (k % 8) / 2][row / 8 + 2 * (k / 8)], k % 2);
        const float y = HALF(w.b[col * 4 + (k % 8) / 2][k / 8], k % 2);
        s += x * y;
      }
      d[q] = s;
    }
    return 0;
  });
}
inline void moec_mma_bf16(float (&d)[4], const unsigned (&a)[4], unsigned b0, unsigned b1) { mmaEmulated<bf16Half>(d, a, b0, b1); }
inline void moec_mma_f16(float (&d)[4], const unsigned (&a)[4], unsigned b0, unsigned b1) { mmaEmulated<f16Half>(d, a, b0, b1); }

template <class F> void launchThreads(unsigned gx, unsigned gy, unsigned gz, unsigned threads, F f) {
  std::barrier<> b(threads);
  std::vector<std::unique_ptr<Warp>> warps;
  for (unsigned t = 0; t < threads; t += 32) warps.push_back(std::make_unique<Warp>());
  std::vector<std::thread> ts;
  for (unsigned t = 0; t < threads; t++) ts.emplace_back([&, t] {
    blockBarrier = &b;
    warp = warps[t / 32].get();
    laneId = (int)(t % 32);
    threadIdx = {t, 0, 0};
    gridDim = {gx, gy, gz};
    // Blocks share the statics standing in for shared memory: one ends (all its threads) before the next begins.
    for (unsigned z = 0; z < gz; z++) for (unsigned y = 0; y < gy; y++) for (unsigned x = 0; x < gx; x++) { blockIdx = {x, y, z}; f(); b.arrive_and_wait(); }
  });
  for (auto& t : ts) t.join();
}
template <class F> void launchSerial(unsigned gx, unsigned threads, F f) {
  gridDim = {gx, 1, 1};
  for (unsigned x = 0; x < gx; x++) for (unsigned t = 0; t < threads; t++) { blockIdx = {x, 0, 0}; threadIdx = {t, 0, 0}; f(); }
}
template <class T> void readInto(std::vector<T>& v, const char* path) { FILE* f = std::fopen(path, "rb"); std::fread(v.data(), sizeof(T), v.size(), f); std::fclose(f); }
template <class T> void writeFrom(const std::vector<T>& v, const char* path, size_t n) { FILE* f = std::fopen(path, "wb"); std::fwrite(v.data(), sizeof(T), n, f); std::fclose(f); }
`;

const isFloat = (dtype: string) => dtype === 'f32' || dtype === 'f16' || dtype === 'bf16';

/** main(): the buffers (params, inputs and constant tables read from files in `dir`), the launches, the outputs written. */
function hostMain(p: KernelProgram, cuda: CudaProgram, data: (name: string) => Storage | undefined, sizes: Record<string, number>, dir: string): string {
  const index = new Map(p.buffers.map((b, i) => [b.name, i]));
  const id = (name: string) => `B${index.get(p.buffers[index.get(name)!]!.aliasOf ?? name)}`;
  const bf16 = new Set(cuda.bf16);
  const lines = ['int main() {'];
  for (const b of p.buffers.filter((x) => !x.aliasOf)) {
    const n = Math.max(1, evalDim(b.size, sizes));
    const type = bf16.has(b.name) ? 'unsigned short' : isFloat(b.dtype) ? 'float' : 'int';
    lines.push(`  static std::vector<${type}> ${id(b.name)}(${n}, ${type === 'float' ? 'NAN' : type === 'int' ? '-7' : '0x7fc0'});`);
    const raw = data(b.name);
    const d = raw && bf16.has(b.name) ? (cuda.precision === 'f16' ? toHalf : toBf16)(raw as Float32Array) : raw;
    if (!d) continue;
    writeFileSync(join(dir, `${id(b.name)}.bin`), new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
    lines.push(`  readInto(${id(b.name)}, "${join(dir, id(b.name))}.bin");`);
  }
  const kernels = new Map(p.kernels.map((k) => [k.name, k]));
  const synchronising = new Set(cuda.functions.filter((f) => /__syncthreads|__shfl/.test(f.code)).map((f) => f.entry));
  for (const { name, entry, launch } of cuda.kernels) {
    if (launch.when && evalExtent(launch.when, sizes) === 0) continue;
    const k = kernels.get(name)!;
    const [x, y, z] = launch.grid.map((e) => evalExtent(e, sizes)) as [number, number, number];
    const args = [...k.buffers.map((b) => `${id(b.name)}.data()`), `moec_sizes{{${cuda.sizes.map((s) => sizes[s]).join(', ')}}}`, ...(launch.ints ?? []).map(String)];
    const call = `[&] { ${entry}(${args.join(', ')}); }`;
    // The tiled matmuls and the fused attention synchronise their threads (and the narrow matmul its warps' lanes); a
    // loop nest's threads are independent.
    lines.push(synchronising.has(entry) ? `  launchThreads(${x}, ${y}, ${z}, ${launch.block[0]}, ${call});` : `  launchSerial(${x}, ${launch.block[0]}, ${call});`);
  }
  for (const o of p.outputs) lines.push(`  writeFrom(${id(o.buffer)}, "${join(dir, id(o.buffer))}.out", ${Math.max(1, evalDim(p.buffers[index.get(o.buffer)!]!.size, sizes))});`);
  return [...lines, '}', ''].join('\n');
}

function exec(file: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = spawn(file, args);
    let output = '';
    c.stderr.on('data', (d: Buffer) => (output += d));
    c.on('error', reject);
    c.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${file} ${args.join(' ')} failed:\n${output}`))));
  });
}

/** Compiles and runs the program in `dir`; returns its outputs by name. `data` gives params, inputs and tables. */
export async function runOnHost(p: KernelProgram, cuda: CudaProgram, data: (name: string) => Storage | undefined, sizes: Record<string, number>, dir: string): Promise<Record<string, Storage>> {
  mkdirSync(dir, { recursive: true });
  const source = join(dir, 'main.cpp');
  writeFileSync(source, shim + cuda.source.replace(ptxHelpers, '') + hostMain(p, cuda, data, sizes, dir));
  // -w: the shim does not define the pragmas meant for nvcc (unroll, nv_diag_suppress).
  await exec('g++', ['-std=c++20', '-O1', '-w', '-pthread', source, '-o', join(dir, 'main')]);
  await exec(join(dir, 'main'), []);
  const index = new Map(p.buffers.map((b, i) => [b.name, i]));
  return Object.fromEntries(p.outputs.map((o) => {
    const bytes = readFileSync(join(dir, `B${index.get(o.buffer)}.out`));
    const float = isFloat(p.buffers[index.get(o.buffer)!]!.dtype);
    return [o.name, float ? new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4) : new Int32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4)];
  }));
}
