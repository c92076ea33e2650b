// Runs a program's CUDA C on the CPU, for tests on machines without a GPU: g++ compiles the source with a shim of the
// CUDA built-ins it uses, and a generated main() binds the buffers and makes every launch the manifest describes.
// A launch of a function that synchronises (the tiled matmul) runs its block's threads as std::threads meeting at a
// std::barrier, each walking every block in the same order; loop nests run their threads one after another. Fresh
// temporaries start as NaN (ints as -7), as in the kernel interpreter, so a missing write shows.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { evalDim } from '../../compiler/ir/dims.ts';
import type { KernelProgram } from '../../compiler/kernel/ir.ts';
import { evalExtent } from '../../codegen/grid.ts';
import type { CudaProgram } from '../../targets/cuda/render.ts';

type Storage = Float32Array | Int32Array;

const shim = `#include <algorithm>
#include <barrier>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>
struct uint3_ { unsigned x, y, z; };
thread_local uint3_ blockIdx, threadIdx;
thread_local std::barrier<>* blockBarrier;
#define __global__
#define __launch_bounds__(n)
#define __restrict__ __restrict
// One block runs at a time, so a block's shared memory can be a static.
#define __shared__ static
inline void __syncthreads() { blockBarrier->arrive_and_wait(); }
inline float __int_as_float(int i) { float f; std::memcpy(&f, &i, 4); return f; }
inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
using std::max;
using std::min;
template <class F> void launchThreads(unsigned gx, unsigned gy, unsigned gz, unsigned threads, F f) {
  std::barrier<> b(threads);
  std::vector<std::thread> ts;
  for (unsigned t = 0; t < threads; t++) ts.emplace_back([&, t] {
    blockBarrier = &b;
    threadIdx = {t, 0, 0};
    for (unsigned z = 0; z < gz; z++) for (unsigned y = 0; y < gy; y++) for (unsigned x = 0; x < gx; x++) { blockIdx = {x, y, z}; f(); }
  });
  for (auto& t : ts) t.join();
}
template <class F> void launchSerial(unsigned gx, unsigned threads, F f) {
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
  const lines = ['int main() {'];
  for (const b of p.buffers.filter((x) => !x.aliasOf)) {
    const n = Math.max(1, evalDim(b.size, sizes));
    lines.push(`  static std::vector<${isFloat(b.dtype) ? 'float' : 'int'}> ${id(b.name)}(${n}, ${isFloat(b.dtype) ? 'NAN' : '-7'});`);
    const d = data(b.name);
    if (!d) continue;
    writeFileSync(join(dir, `${id(b.name)}.bin`), new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
    lines.push(`  readInto(${id(b.name)}, "${join(dir, id(b.name))}.bin");`);
  }
  p.kernels.forEach((k, i) => {
    const { entry, launch } = cuda.kernels[i]!;
    const [x, y, z] = launch.grid.map((e) => evalExtent(e, sizes)) as [number, number, number];
    const args = [...k.buffers.map((b) => `${id(b.name)}.data()`), `moec_sizes{{${cuda.sizes.map((s) => sizes[s]).join(', ')}}}`, ...(launch.ints ?? []).map(String)];
    const call = `[&] { ${entry}(${args.join(', ')}); }`;
    // Only the tiled matmul synchronises its threads; a loop nest's threads are independent.
    lines.push(launch.ints ? `  launchThreads(${x}, ${y}, ${z}, ${launch.block[0]}, ${call});` : `  launchSerial(${x}, ${launch.block[0]}, ${call});`);
  });
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
  writeFileSync(source, shim + cuda.source + hostMain(p, cuda, data, sizes, dir));
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
