// Worker threads for the wasm target: every worker instantiates the same compiled module on the same shared
// memory, then waits on a control word. A call writes the export's index and its arguments into each worker's
// slot, bumps the slot's sequence number and notifies; the caller runs its own share and waits for the others.
// No messages per call: dispatch is a few atomic operations (the pool is made once, at load).
import { Worker } from 'node:worker_threads';
import { erf, erfc, erfSeries } from '../reference/kernels/elementwise.ts';

const SLOT = 64; // i32 words per worker: seq, done, fn, argc, error, args…
const [SEQ, DONE, FN, ARGC, ERROR, ARGS] = [0, 1, 2, 3, 4, 8];
export const maxArgs = SLOT - ARGS;

/** The math functions the kernels import, as source for the workers (the same code as on the caller's thread). */
export const mathSource = `const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
${erfSeries.toString()}
${erfc.toString()}
${erf.toString()}
const math = { exp: Math.exp, log: Math.log, tanh: Math.tanh, erf, sin: Math.sin, cos: Math.cos };`;

const workerSource = `
const { workerData } = require('node:worker_threads');
${mathSource}
const { module, memory, control, slot } = workerData;
const ctrl = new Int32Array(control);
const base = slot * ${SLOT};
const instance = new WebAssembly.Instance(module, { env: { memory }, math });
const fns = WebAssembly.Module.exports(module).filter((e) => e.kind === 'function').map((e) => instance.exports[e.name]);
let seen = 0;
for (;;) {
  Atomics.wait(ctrl, base + ${SEQ}, seen);
  seen = Atomics.load(ctrl, base + ${SEQ});
  const fn = ctrl[base + ${FN}];
  if (fn < 0) break;
  try {
    const args = Array.from(ctrl.subarray(base + ${ARGS}, base + ${ARGS} + ctrl[base + ${ARGC}]));
    fns[fn](...args);
  } catch (e) {
    ctrl[base + ${ERROR}] = 1;
  }
  Atomics.store(ctrl, base + ${DONE}, seen);
  Atomics.notify(ctrl, base + ${DONE});
}
`;

export class ThreadPool {
  private readonly ctrl: Int32Array;
  private readonly workers: Worker[] = [];
  private readonly index: Map<string, number>;

  /** `threads - 1` workers; the calling thread is the last one. */
  constructor(module: WebAssembly.Module, memory: WebAssembly.Memory, readonly threads: number) {
    this.ctrl = new Int32Array(new SharedArrayBuffer(4 * SLOT * Math.max(1, threads - 1)));
    const names = WebAssembly.Module.exports(module).filter((e) => e.kind === 'function').map((e) => e.name);
    this.index = new Map(names.map((n, i) => [n, i]));
    for (let slot = 0; slot < threads - 1; slot++) {
      const w = new Worker(workerSource, { eval: true, workerData: { module, memory, control: this.ctrl.buffer, slot } });
      w.unref();
      this.workers.push(w);
    }
  }

  /** Runs fn(args(t)) on every thread t = 0 … threads-1 and returns when all are done. */
  run(name: string, args: (t: number) => number[], own: (args: number[]) => void): void {
    const fn = this.index.get(name);
    if (fn === undefined) throw new Error(`the module exports no function '${name}'`);
    const c = this.ctrl;
    const pending: [number, number][] = [];
    this.workers.forEach((_, t) => {
      const a = args(t);
      if (a.length > maxArgs) throw new Error(`${name}: ${a.length} arguments; a worker call takes at most ${maxArgs}`);
      const base = t * SLOT;
      c[base + FN] = fn;
      c[base + ARGC] = a.length;
      c.set(a, base + ARGS);
      const seq = Atomics.add(c, base + SEQ, 1) + 1;
      Atomics.notify(c, base + SEQ);
      pending.push([base, seq]);
    });
    own(args(this.workers.length));
    for (const [base, seq] of pending) {
      for (;;) {
        const done = Atomics.load(c, base + DONE);
        if (done === seq) break;
        Atomics.wait(c, base + DONE, done);
      }
      if (c[base + ERROR]) {
        c[base + ERROR] = 0;
        throw new Error(`${name} failed in a worker thread`);
      }
    }
  }

  close(): void {
    this.workers.forEach((w, t) => {
      const base = t * SLOT;
      this.ctrl[base + FN] = -1;
      Atomics.add(this.ctrl, base + SEQ, 1);
      Atomics.notify(this.ctrl, base + SEQ);
      void w.terminate();
    });
    this.workers.length = 0;
  }
}
