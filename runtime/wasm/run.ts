// Runs a compiled WebAssembly program. Loading places the weights once at the bottom of one shared linear memory
// (matmul weights repacked into panels), then each thread's scratch; a run places inputs and temporaries above them
// (temporaries packed by the memory plan, the memory grown as the sizes need), calls the kernels in order (the
// tensorized matmuls split over the threads) and reads the outputs back.
import { evalDim } from '../../compiler/ir/dims.ts';
import type { KernelProgram, ProgramBuffer } from '../../compiler/kernel/ir.ts';
import type { MemoryPlan } from '../../compiler/kernel/memory-plan.ts';
import { erf } from '../reference/kernels/elementwise.ts';
import { packPanels } from './pack.ts';
import { ThreadPool } from './threads.ts';

export type Storage = Float32Array | Int32Array;

const ALIGN = 64;
/** Below this many multiply-adds (about 0.1 ms on one core) a kernel stays on the calling thread. */
const MIN_THREADED_WORK = 1 << 22;
const PAGE = 65536;
const align = (n: number) => Math.ceil(n / ALIGN) * ALIGN;
const isFloat = (b: { dtype: string }) => b.dtype === 'f32' || b.dtype === 'f16' || b.dtype === 'bf16';

export interface WasmRun {
  params: (name: string) => Storage;
  inputs: Record<string, Storage>;
  sizes: Record<string, number>;
  /** Receives each kernel's wall time in milliseconds (for `moec run --profile`). */
  profile?: (kernel: string, ops: string[], ms: number) => void;
  /** Debugging: receives, right after each kernel, a copy of every buffer it wrote (for op-by-op comparison with the
   * reference executor: a value buffer's `source` is the graph value it holds). */
  inspect?: (buffer: ProgramBuffer, data: Storage) => void;
}

export interface WasmOptions {
  /** Threads for the tensorized matmuls (1: no workers). */
  threads?: number;
  /** Debugging the memory plan: every temporary starts as NaN, and is filled with NaN again right after the last
   * kernel that uses it (its lifetime in the plan), so a kernel that reads a freed or never-written buffer sees it. */
  poison?: boolean;
}

/** Bump allocation from a base address. */
class Arena {
  constructor(public top: number) {}
  place(bytes: number): number {
    const at = this.top;
    this.top = align(this.top + Math.max(bytes, 4));
    return at;
  }
}

export class WasmProgram {
  private readonly module: WebAssembly.Module;
  private readonly threads: number;
  private memory?: WebAssembly.Memory;
  private instance?: WebAssembly.Instance;
  private pool?: ThreadPool;
  /** Addresses of the weights, constants and thread scratch, fixed at load. */
  private readonly fixed = new Map<string, number>();
  private base = 0;

  constructor(readonly program: KernelProgram, readonly plan: MemoryPlan, binary: Uint8Array, readonly sizeNames: string[], readonly options: WasmOptions = {}) {
    this.module = new WebAssembly.Module(new Uint8Array(binary));
    this.threads = Math.max(1, options.threads ?? 1);
  }

  private grow(bytes: number): void {
    const memory = this.memory!;
    const need = Math.ceil(bytes / PAGE) - memory.buffer.byteLength / PAGE;
    if (need <= 0) return;
    if (memory.buffer.byteLength / PAGE + need > 65536) throw new RangeError(`the model needs ${bytes} bytes of wasm memory; the limit is 4 GiB`);
    memory.grow(need);
  }

  /** Places the weights (packing the matmul weights) and starts the threads. Called once, by the first run. */
  load(params: (name: string) => Storage): void {
    if (this.memory) return;
    const arena = new Arena(ALIGN); // address 0 stays unused, so a stray null pointer is not a buffer
    const resident = this.program.buffers.filter((b) => !b.aliasOf && (b.kind === 'param' || b.kind === 'const'));
    for (const b of resident) this.fixed.set(b.name, arena.place(evalDim(b.size, {}) * 4));
    this.base = arena.top;
    this.memory = new WebAssembly.Memory({ initial: Math.ceil(arena.top / PAGE) + 1, maximum: 65536, shared: true });
    for (const b of resident) {
      const n = evalDim(b.size, {});
      const at = this.fixed.get(b.name)!;
      const view = isFloat(b) ? new Float32Array(this.memory.buffer, at, n) : new Int32Array(this.memory.buffer, at, n);
      if (b.kind === 'const') view.set(b.data!);
      else if (b.packed) packPanels(b.packed, b.packed.sources.map((s) => params(s) as Float32Array), view as Float32Array);
      else view.set(params(b.source));
    }
    const math = { exp: Math.exp, log: Math.log, tanh: Math.tanh, erf, sin: Math.sin, cos: Math.cos };
    this.instance = new WebAssembly.Instance(this.module, { env: { memory: this.memory }, math });
    if (this.threads > 1) this.pool = new ThreadPool(this.module, this.memory, this.threads);
  }

  /** Addresses of the per-run buffers at these sizes, above the resident ones. */
  private layout(sizes: Record<string, number>): { offset: Map<string, number>; scratch: number[] } {
    const offset = new Map(this.fixed);
    const arena = new Arena(this.base);
    const slotAt = new Map<number, number>();
    for (const b of this.program.buffers) {
      if (b.aliasOf || offset.has(b.name)) continue;
      const slot = b.kind === 'temp' ? this.plan.slotOf.get(b.name) : undefined;
      if (slot === undefined) offset.set(b.name, arena.place(evalDim(b.size, sizes) * 4));
      else {
        if (!slotAt.has(slot)) slotAt.set(slot, arena.place(evalDim(this.plan.slots[slot]!.size, sizes) * 4));
        offset.set(b.name, slotAt.get(slot)!);
      }
    }
    for (const b of this.program.buffers) if (b.aliasOf) offset.set(b.name, offset.get(b.aliasOf)!);
    // Each thread's scratch: as much as the hungriest threaded kernel needs at these sizes.
    const need = Math.max(0, ...this.program.kernels.map((k) => (k.threads ? k.threads.scratch.reduce<number>((s, d) => s + evalDim(d, sizes), 0) * 4 : 0)));
    const scratch = Array.from({ length: this.threads }, () => arena.place(need));
    this.grow(arena.top);
    return { offset, scratch };
  }

  run(r: WasmRun): Record<string, Storage> {
    this.load(r.params);
    const { offset, scratch } = this.layout(r.sizes);
    const buffer = () => this.memory!.buffer;
    const view = (b: ProgramBuffer): Storage => {
      const n = evalDim(b.size, r.sizes);
      const at = offset.get(b.name)!;
      return isFloat(b) ? new Float32Array(buffer(), at, n) : new Int32Array(buffer(), at, n);
    };
    for (const b of this.program.buffers) if (b.kind === 'input' && !b.aliasOf) view(b).set(r.inputs[b.source]!);
    const sizeArgs = this.sizeNames.map((s) => {
      const v = r.sizes[s];
      if (v === undefined) throw new Error(`no size given for '${s}'`);
      return v;
    });
    const exports = this.instance!.exports;
    const deaths = this.options.poison ? this.poisonTemps(offset, r.sizes) : undefined;
    const byName = r.inspect ? new Map(this.program.buffers.map((b) => [b.name, b])) : undefined;
    for (const [ki, k] of this.program.kernels.entries()) {
      const fn = exports[k.name] as (...args: number[]) => void;
      const args = [...k.buffers.map((b) => offset.get(b.name)!), ...sizeArgs];
      const t0 = r.profile ? performance.now() : 0;
      if (!k.threads) fn(...args);
      else {
        const units = evalDim(k.threads.units, r.sizes);
        if (!this.pool || evalDim(k.threads.work, r.sizes) < MIN_THREADED_WORK) fn(...args, 0, units, scratch[0]!);
        else {
          const T = this.threads;
          this.pool.run(k.name, (t) => [...args, Math.floor((t * units) / T), Math.floor(((t + 1) * units) / T), scratch[t]!], (a) => fn(...a));
        }
      }
      if (r.profile) r.profile(k.name, k.ops, performance.now() - t0);
      if (byName) for (const b of k.buffers) if (b.access !== 'read') r.inspect!(byName.get(b.name)!, view(byName.get(b.name)!).slice());
      deaths?.get(ki)?.forEach((poison) => poison());
    }
    const out: Record<string, Storage> = {};
    for (const o of this.program.outputs) out[o.name] = view(this.program.buffers.find((x) => x.name === o.buffer)!).slice();
    return out;
  }

  /** Fills every temporary with NaN now; returns, by kernel index, what refills each after its last use. */
  private poisonTemps(offset: Map<string, number>, sizes: Record<string, number>): Map<number, (() => void)[]> {
    const byName = new Map(this.program.buffers.map((b) => [b.name, b]));
    const fill = (name: string) => () => new Float32Array(this.memory!.buffer, offset.get(name)!, evalDim(byName.get(name)!.size, sizes)).fill(NaN);
    const deaths = new Map<number, (() => void)[]>();
    for (const [name, [, end]] of this.plan.lifetimes) {
      fill(name)();
      deaths.set(end, [...(deaths.get(end) ?? []), fill(name)]);
    }
    return deaths;
  }

  close(): void {
    this.pool?.close();
  }
}
