// Runs a kernel program rendered to CUDA C: the source compiled once by NVRTC for the device, each kernel's function
// looked up once, weights uploaded once, temporaries in the memory plan's slots (one device allocation per slot,
// kept while the sizes fit), the kernels launched in order on the default stream, the outputs copied back.
// In bf16 (f16) mode the matrix weights the program names are uploaded as bf16 (f16) words, 2 bytes an element.
import { evalDim } from '../../compiler/ir/dims.ts';
import type { Expr, KernelProgram } from '../../compiler/kernel/ir.ts';
import type { MemoryPlan } from '../../compiler/kernel/memory-plan.ts';
import { evalExtent } from '../../codegen/grid.ts';
import { toHalf } from '../half.ts';
import { toBf16 } from './bf16.ts';
import type { Cuda, KernelArg } from './driver.ts';
import type { OnProgress } from '../progress.ts';

export type Storage = Float32Array | Int32Array;

/**
 * What the runtime needs of a compiled program: the source, and its launches in order (a kernel's function, grid and
 * block; a kernel with variants has one launch each, run only where its `when` is non-zero at the run's sizes).
 */
export interface CudaCompiled {
  source: string;
  sizes: string[];
  launches: { kernel: string; entry: string; grid: Expr[]; block: number[]; ints?: number[]; when?: Expr; shared?: number }[];
  /** 'bf16' / 'f16': the buffers in `bf16` are stored as 16-bit words of that kind (targets/cuda renderProgram's
   * precision and bf16). */
  precision?: 'f32' | 'bf16' | 'f16';
  bf16?: string[];
  /** The architecture the source was rendered for (sm_80 unless given). */
  arch?: string;
}

export interface CudaRun {
  params: (name: string) => Storage;
  inputs: Record<string, Storage>;
  sizes: Record<string, number>;
}

const isFloat = (dtype: string) => dtype === 'f32' || dtype === 'f16' || dtype === 'bf16';
/** Bytes of a buffer of n 32-bit words. */
const bytesOf = (n: number) => Math.max(4, n * 4);

export class CudaProgram {
  private readonly fns: unknown[];
  private readonly resident = new Map<string, bigint>();
  private slots: { ptr: bigint; bytes: number }[] = [];
  private loaded = false;

  /** `onProgress`: NVRTC's compile of the whole source (one step, cached across runs), then each function loaded. */
  constructor(readonly cuda: Cuda, readonly program: KernelProgram, readonly plan: MemoryPlan, readonly compiled: CudaCompiled, options: { onProgress?: OnProgress } = {}) {
    const kernels = new Set(program.kernels.map((k) => k.name));
    for (const l of compiled.launches) if (!kernels.has(l.kernel)) throw new Error(`the compiled program launches ${l.kernel}, which the kernel program does not have`);
    if (compiled.precision !== undefined && compiled.precision !== 'f32' && !compiled.bf16) throw new Error(`a ${compiled.precision} program must name its ${compiled.precision} parameters (targets/cuda cudaCompiled gives them)`);
    options.onProgress?.(0, 1, 'cuda: compiling with NVRTC');
    const module = cuda.compile(compiled.source, `${program.name}.cu`, compiled.arch);
    options.onProgress?.(1, 1, 'cuda: compiling with NVRTC');
    const byEntry = new Map<string, unknown>();
    const entries = new Set(compiled.launches.map((l) => l.entry)).size;
    this.fns = compiled.launches.map((l) => {
      if (!byEntry.has(l.entry)) {
        byEntry.set(l.entry, cuda.fn(module, l.entry, l.shared));
        options.onProgress?.(byEntry.size, entries, 'cuda: loading functions');
      }
      return byEntry.get(l.entry);
    });
  }

  /** Uploads the weights (bf16 or f16 ones converted) and constant tables (once). */
  load(params: (name: string) => Storage): void {
    if (this.loaded) return;
    const precision = this.compiled.precision ?? 'f32';
    const bf16 = new Set(precision !== 'f32' ? this.compiled.bf16 : []);
    const convert = precision === 'f16' ? toHalf : toBf16;
    for (const b of this.program.buffers) {
      if (b.aliasOf || (b.kind !== 'param' && b.kind !== 'const')) continue;
      const value = b.kind === 'const' ? (isFloat(b.dtype) ? Float32Array.from(b.data!) : Int32Array.from(b.data!)) : params(b.source);
      const data = bf16.has(b.name) ? convert(value as Float32Array) : value;
      const ptr = this.cuda.alloc(data.byteLength);
      this.cuda.upload(ptr, data);
      this.resident.set(b.name, ptr);
    }
    this.loaded = true;
  }

  /** Device pointers of every buffer at these sizes (weights resident, temporaries in slots, inputs and outputs fresh). */
  private bind(r: CudaRun): { ptrs: Map<string, bigint>; perRun: bigint[] } {
    const sizes = r.sizes;
    const ptrs = new Map(this.resident);
    const perRun: bigint[] = [];
    this.plan.slots.forEach((s, i) => {
      const bytes = bytesOf(evalDim(s.size, sizes));
      if (!this.slots[i] || this.slots[i]!.bytes < bytes) {
        if (this.slots[i]) this.cuda.free(this.slots[i]!.ptr);
        this.slots[i] = { ptr: this.cuda.alloc(bytes), bytes };
      }
    });
    for (const b of this.program.buffers) {
      if (b.aliasOf || ptrs.has(b.name)) continue;
      const slot = b.kind === 'temp' ? this.plan.slotOf.get(b.name) : undefined;
      if (slot !== undefined) ptrs.set(b.name, this.slots[slot]!.ptr);
      else {
        const ptr = this.cuda.alloc(bytesOf(evalDim(b.size, sizes)));
        perRun.push(ptr);
        ptrs.set(b.name, ptr);
        if (b.kind === 'input') this.cuda.upload(ptr, r.inputs[b.source]!);
      }
    }
    for (const b of this.program.buffers) if (b.aliasOf) ptrs.set(b.name, ptrs.get(b.aliasOf)!);
    return { ptrs, perRun };
  }

  /** Launches every kernel once in order (`repeat` times for timing); with `perKernel`, each launch timed on its own
   * (events around it) and its milliseconds added under its kernel's name. */
  private launchAll(ptrs: Map<string, bigint>, sizes: Record<string, number>, repeat: number, perKernel?: Map<string, number>, only?: Set<string>): void {
    const sizeArg: KernelArg = {
      ints: Int32Array.from(this.compiled.sizes, (s) => {
        const v = sizes[s];
        if (v === undefined) throw new Error(`no size given for '${s}'`);
        return v;
      }),
    };
    const kernels = new Map(this.program.kernels.map((k) => [k.name, k]));
    const launches = this.compiled.launches.flatMap((l, i) => {
      if (only && !only.has(l.kernel)) return [];
      if (l.when && evalExtent(l.when, sizes) === 0) return [];
      const k = kernels.get(l.kernel)!;
      const grid = l.grid.map((e) => evalExtent(e, sizes));
      const args: KernelArg[] = [...k.buffers.map((b) => ({ ptr: ptrs.get(b.name)! })), sizeArg, ...(l.ints ?? []).map((v) => ({ int: v }))];
      return [{ kernel: l.kernel, fn: this.fns[i], grid, block: l.block, args, shared: l.shared ?? 0 }];
    }).filter((l) => l.grid.every((g) => g > 0));
    for (let rep = 0; rep < repeat; rep++) {
      for (const l of launches) {
        const launch = () => this.cuda.launch(l.fn, l.grid, l.block, l.args, l.shared);
        if (perKernel) perKernel.set(l.kernel, (perKernel.get(l.kernel) ?? 0) + this.cuda.time(launch));
        else launch();
      }
    }
  }

  /** Runs the program: `repeat` times with `time` given the GPU milliseconds of all of them; `perKernel` collects
   * each kernel's own milliseconds (summed over the repeats; each launch then waits for the one before). */
  run(r: CudaRun, options: { repeat?: number; time?: (ms: number) => void; perKernel?: Map<string, number> } = {}): Record<string, Storage> {
    this.load(r.params);
    const { ptrs, perRun } = this.bind(r);
    try {
      const ms = this.cuda.time(() => this.launchAll(ptrs, r.sizes, options.repeat ?? 1, options.perKernel));
      options.time?.(ms);
      return this.download(ptrs, r.sizes);
    } finally {
      for (const p of perRun) this.cuda.free(p);
    }
  }

  /**
   * For a runner that does other work between kernels (expert parallelism's collectives, runtime/cuda/ranks.ts): the
   * buffers bound at these sizes, then `launch` of some kernels at a time (asynchronously), then `outputs`.
   */
  begin(r: CudaRun): { ptrs: Map<string, bigint>; launch(kernels: Set<string>): void; outputs(): Record<string, Storage> } {
    this.load(r.params);
    const { ptrs, perRun } = this.bind(r);
    return {
      ptrs,
      launch: (kernels) => this.launchAll(ptrs, r.sizes, 1, undefined, kernels),
      outputs: () => {
        try {
          return this.download(ptrs, r.sizes);
        } finally {
          for (const p of perRun) this.cuda.free(p);
        }
      },
    };
  }

  /** The program's outputs copied back from the device. */
  private download(ptrs: Map<string, bigint>, sizes: Record<string, number>): Record<string, Storage> {
    const out: Record<string, Storage> = {};
    for (const o of this.program.outputs) {
      const b = this.program.buffers.find((x) => x.name === o.buffer)!;
      const n = evalDim(b.size, sizes);
      const data = isFloat(b.dtype) ? new Float32Array(n) : new Int32Array(n);
      if (n > 0) this.cuda.download(ptrs.get(o.buffer)!, data);
      out[o.name] = data;
    }
    return out;
  }

  destroy(): void {
    for (const p of this.resident.values()) this.cuda.free(p);
    for (const s of this.slots) this.cuda.free(s.ptr);
    this.resident.clear();
    this.slots = [];
  }
}
