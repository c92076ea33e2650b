// Probe benchmark: our binaryen-generated SIMD128 matmul vs onnxruntime-web's wasm backend,
// in Node, same process, same data.
//
//   npx tsx bench/wasm-probe/bench.ts                 # whole table: spawns 2 child processes
//   npx tsx bench/wasm-probe/bench.ts --threads 1     # one child: ours and ORT with 1 thread
//   npx tsx bench/wasm-probe/bench.ts --threads 2     # one child: ours and ORT with 2 threads
//   options: --reps 7 --shapes 512x1024x2816,256x1024x1024 --no-ort --no-fma --json --quick
//
// binaryen and onnxruntime-web are loaded from PROBE_NODE_MODULES (default
// /tmp/probe/node_modules: `mkdir /tmp/probe && cd /tmp/probe && npm init -y &&
// npm install binaryen onnxruntime-web`). ORT fixes its thread count when its wasm
// module starts, which is why each thread count runs in its own process.
//
// The relaxed-simd rows turn on V8's --experimental-wasm-relaxed-simd with
// v8.setFlagsFromString before anything is compiled (Node 20 / V8 11.3 does not ship
// relaxed SIMD by default; Chrome >= 114 does).

import { Worker } from 'node:worker_threads';
import { spawnSync } from 'node:child_process';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { join } from 'node:path';
import os from 'node:os';
import v8 from 'node:v8';
import { generateMatmul, loadBinaryen, type MatmulGenOptions } from './matmul-gen.ts';
import { buildMatMulModel } from './onnx-matmul.ts';

// ------------------------------------------------------------------ args
const argv = process.argv.slice(2);
const flag = (name: string): boolean => argv.includes(`--${name}`);
const opt = (name: string, dflt: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : dflt;
};
const REPS = Number(opt('reps', '7'));
const SHAPES = opt('shapes', '512x1024x2816,256x1024x1024')
  .split(',')
  .map((s) => s.split('x').map(Number) as [number, number, number]);
const NODE_MODULES = process.env.PROBE_NODE_MODULES ?? new URL('../../node_modules', import.meta.url).pathname;

interface Row {
  threads: number;
  shape: string;
  impl: string;
  bLayout: string;
  ms: number;
  firstMs: number;
  gflops: number;
  packMs?: number;
  maxRelErr: number;
}

// ------------------------------------------------------------------ parent: run children, print table
if (!argv.includes('--threads')) {
  const rows: Row[] = [];
  for (const t of [1, 2]) {
    const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--threads', String(t), '--json', ...argv], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    process.stderr.write(r.stderr);
    for (const line of r.stdout.split('\n')) if (line.startsWith('{')) rows.push(JSON.parse(line));
  }
  console.log(`machine: ${os.cpus()[0]?.model} × ${os.cpus().length}, Node ${process.version} (V8 ${process.versions.v8})`);
  console.log('| threads | M×K×N | implementation | B layout | best ms | first ms | GFLOP/s | B pack ms | max rel err |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of rows)
    console.log(
      `| ${r.threads} | ${r.shape} | ${r.impl} | ${r.bLayout} | ${r.ms.toFixed(1)} | ${r.firstMs.toFixed(1)} | ${r.gflops.toFixed(1)} | ${r.packMs === undefined ? '' : r.packMs.toFixed(1)} | ${r.maxRelErr.toExponential(1)} |`,
    );
  process.exit(0);
}

// ------------------------------------------------------------------ child
const THREADS = Number(opt('threads', '1'));
const WANT_FMA = !flag('no-fma');
if (WANT_FMA) v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
const emit = (r: Row): void => {
  if (flag('json')) console.log(JSON.stringify(r));
  else console.log(`${r.threads}T ${r.shape} ${r.impl} ${r.bLayout}: ${r.ms.toFixed(1)} ms (first ${r.firstMs.toFixed(1)}), ${r.gflops.toFixed(1)} GFLOP/s, err ${r.maxRelErr.toExponential(1)}`);
};

/** Deterministic inputs in [-0.5, 0.5). */
function fill(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    a[i] = x / 4294967296 - 0.5;
  }
  return a;
}

/** Naive reference (f64 accumulation, i-k-j order). */
function reference(A: Float32Array, B: Float32Array, M: number, K: number, N: number): Float64Array {
  const C = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    const row = i * N;
    for (let k = 0; k < K; k++) {
      const a = A[i * K + k];
      const bo = k * N;
      for (let j = 0; j < N; j++) C[row + j] += a * B[bo + j];
    }
  }
  return C;
}

/** max |C − R| / max |R| (normwise: elementwise ratios blow up on cancelled entries). */
function relErr(C: Float32Array, R: Float64Array): number {
  let e = 0,
    r = 0;
  for (let i = 0; i < R.length; i++) {
    e = Math.max(e, Math.abs(C[i] - R[i]));
    r = Math.max(r, Math.abs(R[i]));
  }
  return e / r;
}

async function time(fn: () => void | Promise<unknown>): Promise<{ first: number; best: number }> {
  let t = performance.now();
  await fn();
  const first = performance.now() - t;
  await fn();
  let best = Infinity;
  for (let i = 0; i < REPS; i++) {
    t = performance.now();
    await fn();
    best = Math.min(best, performance.now() - t);
  }
  return { first, best };
}

// ------------------------------------------------------------------ our kernels: memory, thread pool
const PAGE = 65536;
const maxBytes = Math.max(...SHAPES.map(([M, K, N]) => 4 * (M * K + 3 * K * (N + 64) + M * N))) + (8 << 20);
const pages = Math.ceil(maxBytes / PAGE);
const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
const CTRL = 0; // 16 i32 per thread slot
let heap = 4096;
const alloc = (bytes: number): number => {
  const p = heap;
  heap += Math.ceil(bytes / 64) * 64;
  if (heap > pages * PAGE) throw new Error('out of memory');
  return p;
};

// Worker: instantiate the same module on the shared memory, then wait on its control slot.
// slot[0] = sequence number (bumped by the main thread), slot[1..8] = matmul args, slot[9] = done seq.
const WORKER_SRC = `
const { parentPort, workerData } = require('node:worker_threads');
const v8 = require('node:v8');
if (workerData.fma) v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
const { memory, slot } = workerData;
const I = new Int32Array(memory.buffer, slot, 16);
let inst = null, seq = 0;
parentPort.on('message', (msg) => {
  if (msg.module) { inst = new WebAssembly.Instance(msg.module, { env: { memory } }); parentPort.postMessage('ok'); return; }
  if (msg === 'run') loop();
});
function loop() {
  for (;;) {
    Atomics.wait(I, 0, seq);
    seq = Atomics.load(I, 0);
    if (I[1] === -1) { Atomics.store(I, 9, seq); Atomics.notify(I, 9); return; }
    inst.exports.matmul(I[1], I[2], I[3], I[4], I[5], I[6], I[7], I[8]);
    Atomics.store(I, 9, seq);
    Atomics.notify(I, 9);
  }
}
`;

class Pool {
  private readonly workers: Worker[] = [];
  private readonly slots: Int32Array[] = [];
  private seq = 0;
  constructor(readonly nWorkers: number) {}
  async start(): Promise<void> {
    for (let w = 0; w < this.nWorkers; w++) {
      const slot = CTRL + 64 * (w + 1);
      this.slots.push(new Int32Array(memory.buffer, slot, 16));
      this.workers.push(new Worker(WORKER_SRC, { eval: true, workerData: { memory, slot, fma: WANT_FMA } }));
    }
  }
  /** Instantiate `module` in every worker and park them in their wait loop. */
  async load(module: WebAssembly.Module): Promise<void> {
    await this.stopLoops();
    await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((res) => {
            w.once('message', () => res());
            w.postMessage({ module });
          }),
      ),
    );
    for (const w of this.workers) w.postMessage('run');
  }
  private looping = false;
  private async stopLoops(): Promise<void> {
    if (!this.looping) {
      this.looping = true;
      return;
    }
    this.dispatch(this.slots.map(() => [-1, 0, 0, 0, 0, 0, 0, 0]));
    this.join();
    await new Promise((r) => setTimeout(r, 5));
  }
  dispatch(args: number[][]): void {
    this.seq++;
    args.forEach((a, w) => {
      const I = this.slots[w];
      I.set(a, 1);
      Atomics.store(I, 0, this.seq);
      Atomics.notify(I, 0);
    });
  }
  join(): void {
    for (const I of this.slots) {
      for (;;) {
        const d = Atomics.load(I, 9);
        if (d === this.seq) break;
        Atomics.wait(I, 9, d, 1000);
      }
    }
  }
  async close(): Promise<void> {
    await this.stopLoops();
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

interface OurConfig {
  impl: string;
  gen: Partial<MatmulGenOptions>;
}
const ALL_CONFIGS: OurConfig[] = [
  { impl: 'ours simd128 5×8 mul+add', gen: { mr: 5, nrv: 2 } },
  { impl: 'ours simd128 5×8 mul+add, runtime shapes', gen: { mr: 5, nrv: 2, runtimeShapes: true } },
  { impl: 'ours simd128 4×8 mul+add', gen: { mr: 4, nrv: 2 } },
  { impl: 'ours simd128 6×8 mul+add (spills)', gen: { mr: 6, nrv: 2 } },
  ...(WANT_FMA
    ? [
        { impl: 'ours relaxed-simd 6×8 fma', gen: { mr: 6, nrv: 2, fma: true } },
        { impl: 'ours relaxed-simd 6×8 fma, runtime shapes', gen: { mr: 6, nrv: 2, fma: true, runtimeShapes: true } },
      ]
    : []),
];

// --quick: only the two headline kernels and ORT with constant weights (fits a short quiet window)
const OUR_CONFIGS = flag('quick') ? ALL_CONFIGS.filter((c) => !c.gen.runtimeShapes && (c.gen.mr === 5 || c.gen.fma)) : ALL_CONFIGS;
const binaryen = await loadBinaryen();

/**
 * Register-only throughput probe (no loads): 12 independent f32x4 accumulators, built with
 * binaryen's text parser. This is the ceiling for any SIMD128 kernel on one core.
 */
async function peak(fma: boolean): Promise<number> {
  const NA = 12;
  const step = Array.from({ length: NA }, (_, i) =>
    fma
      ? `(local.set $a${i} (f32x4.relaxed_madd (local.get $a${i}) (local.get $x) (local.get $y)))`
      : `(local.set $a${i} (f32x4.add (local.get $a${i}) (f32x4.mul (local.get $x) (local.get $y))))`,
  ).join(' ');
  const sum = Array.from({ length: NA }, (_, i) => `(local.get $a${i})`).reduce((p, c) => `(f32x4.add ${p} ${c})`);
  const wat = `(module (func (export "f") (param $n i32) (result f32)
    (local $x v128) (local $y v128) ${Array.from({ length: NA }, (_, i) => `(local $a${i} v128)`).join(' ')}
    (local.set $x (f32x4.splat (f32.convert_i32_s (local.get $n))))
    (local.set $y (f32x4.splat (f32.const 0.5)))
    (loop $l ${step} (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (f32x4.extract_lane 0 ${sum})))`;
  const m = binaryen.parseText(wat);
  m.setFeatures(binaryen.Features.MVP | binaryen.Features.SIMD128 | (fma ? binaryen.Features.RelaxedSIMD : 0));
  const bytes: Uint8Array<ArrayBuffer> = m.emitBinary(); // not optimized: the loop must survive
  m.dispose();
  const f = (await WebAssembly.instantiate(bytes, {})).instance.exports.f as (n: number) => number;
  const n = 1e7;
  const t = await time(() => void f(n));
  return (n * NA * 8) / t.best / 1e6;
}
if (THREADS === 1) {
  console.error(`register-only peak, 1 core: mul+add ${(await peak(false)).toFixed(1)} GFLOP/s` +
    (WANT_FMA ? `, relaxed_madd ${(await peak(true)).toFixed(1)} GFLOP/s` : ''));
}

const pool = THREADS > 1 ? new Pool(THREADS - 1) : null;
await pool?.start();

const refCache = new Map<string, Float64Array>();
// Ours for every shape first, ORT last: ORT's pthread pool must not be around (spinning)
// while our kernels are timed.
for (const phase of ['ours', 'ort'] as const)
for (const [M, K, N] of SHAPES) {
  if (phase === 'ort' && flag('no-ort')) continue;
  const shape = `${M}×${K}×${N}`;
  heap = 4096 + 64 * 16;
  const A = fill(M * K, 1);
  const B = fill(K * N, 2);
  const W = new Float32Array(N * K); // W = Bᵀ, so both layouts have the same reference
  for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) W[n * K + k] = B[k * N + n];
  const R = refCache.get(shape) ?? reference(A, B, M, K, N);
  refCache.set(shape, R);

  const pA = alloc(4 * M * K),
    pB = alloc(4 * K * N),
    pW = alloc(4 * K * N),
    pBp = alloc(4 * K * (N + 64)),
    pC = alloc(4 * M * N);
  const f32 = (p: number, n: number): Float32Array => new Float32Array(memory.buffer, p, n);
  f32(pA, M * K).set(A);
  f32(pB, K * N).set(B);
  f32(pW, K * N).set(W);
  const C = f32(pC, M * N);

  for (const cfg of phase === 'ours' ? OUR_CONFIGS : []) {
    const g = await generateMatmul({ N, K, ...cfg.gen, sharedMemory: true, memoryPages: pages, maxMemoryPages: pages }, binaryen);
    const module = new WebAssembly.Module(g.binary);
    const inst = new WebAssembly.Instance(module, { env: { memory } });
    const ex = inst.exports as Record<string, (...a: number[]) => void>;
    await pool?.load(module);
    const scratch = alloc(THREADS * (g.scratchBytes + 64));
    const mrStep = g.options.mr;
    const chunk = Math.ceil(M / THREADS / mrStep) * mrStep;
    const run = (b: number): void => {
      if (!pool) {
        ex.matmul(pA, b, pC, 0, M, scratch, N, K);
        return;
      }
      const args: number[][] = [];
      for (let w = 1; w < THREADS; w++) {
        const m0 = Math.min(M, w * chunk),
          m1 = Math.min(M, (w + 1) * chunk);
        args.push([pA, b, pC, m0, m1, scratch + w * (g.scratchBytes + 64), N, K]);
      }
      pool.dispatch(args);
      ex.matmul(pA, b, pC, 0, Math.min(M, chunk), scratch, N, K);
      pool.join();
    };
    for (const layout of ['kn', 'nk'] as const) {
      const pack = (): void => ex[`pack_b_${layout}`](layout === 'kn' ? pB : pW, pBp, N, K);
      const tp = await time(pack);
      C.fill(NaN);
      const t = await time(() => run(pBp));
      emit({
        threads: THREADS,
        shape,
        impl: cfg.impl,
        bLayout: layout === 'kn' ? 'B[K,N] packed' : 'W[N,K] packed',
        ms: t.best,
        firstMs: t.first,
        gflops: (2 * M * N * K) / t.best / 1e6,
        packMs: tp.best,
        maxRelErr: relErr(C, R),
      });
    }
    if (THREADS === 1 && cfg.impl.includes('5×8 mul+add') && !cfg.gen.runtimeShapes) {
      // the same tile reading B[K,N] directly (no packing) and A unpacked
      for (const extra of [{ bLayout: 'kn' as const }, { bLayout: 'kn' as const, packA: false }]) {
        const g2 = await generateMatmul({ N, K, ...cfg.gen, ...extra, sharedMemory: true, memoryPages: pages, maxMemoryPages: pages }, binaryen);
        const mod2 = new WebAssembly.Module(g2.binary);
        const ex2 = new WebAssembly.Instance(mod2, { env: { memory } }).exports as Record<string, (...a: number[]) => void>;
        C.fill(NaN);
        const t = await time(() => ex2.matmul(pA, pB, pC, 0, M, scratch, N, K));
        emit({
          threads: THREADS,
          shape,
          impl: `${cfg.impl}${extra.packA === false ? ', A unpacked' : ''}`,
          bLayout: 'B[K,N] unpacked',
          ms: t.best,
          firstMs: t.first,
          gflops: (2 * M * N * K) / t.best / 1e6,
          maxRelErr: relErr(C, R),
        });
      }
    }
  }

  // ---------------------------------------------------------------- onnxruntime-web
  if (phase === 'ort') {
    const ort = await import(pathToFileURL(join(NODE_MODULES, 'onnxruntime-web', 'dist', 'ort.node.min.mjs')).href);
    ort.env.wasm.numThreads = THREADS;
    ort.env.wasm.simd = true;
    for (const layout of ['kn', 'nk'] as const)
      for (const constW of flag('quick') ? [true] : [true, false]) {
        const w = layout === 'kn' ? B : W;
        const bytes = buildMatMulModel({ M, K, N, layout, weights: constW ? w : undefined });
        const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
        const feeds: Record<string, unknown> = { A: new ort.Tensor('float32', A, [M, K]) };
        if (!constW) feeds.B = new ort.Tensor('float32', w, layout === 'kn' ? [K, N] : [N, K]);
        let out: { C: { data: Float32Array } } | undefined;
        const t = await time(async () => {
          out = await session.run(feeds);
        });
        emit({
          threads: THREADS,
          shape,
          impl: `onnxruntime-web ${layout === 'kn' ? 'MatMul' : 'Gemm transB=1'}`,
          bLayout: `${layout === 'kn' ? 'B[K,N]' : 'W[N,K]'} ${constW ? 'initializer' : 'input'}`,
          ms: t.best,
          firstMs: t.first,
          gflops: (2 * M * N * K) / t.best / 1e6,
          maxRelErr: relErr(out!.C.data, R),
        });
        await session.release();
      }
  }
}
await pool?.close();
process.exit(0);
