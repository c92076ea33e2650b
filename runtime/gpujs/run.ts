// Runs a program rendered by targets/gpujs: gpu.js kernels on WebGL (gpu.js's GPU object, e.g. window.GPU from
// gpu-browser.min.js) and JavaScript kernels on the CPU, in launch order over typed arrays (one per buffer; a
// browser-sized model needs no memory plan). A gpu.js kernel returns the (index, value) of each store per thread;
// they are scattered into the buffers here. Nothing here needs Node or the compiler.
import { evalDim } from '../../compiler/ir/dims.ts';
import type { KernelProgram } from '../../compiler/kernel/ir.ts';
import { evalExtent } from '../../codegen/grid.ts';
import { erfSource, type GpujsKernel, type GpujsProgram } from '../../targets/gpujs/render.ts';

export type Storage = Float32Array | Int32Array;

/** What moec uses of gpu.js's GPU object (gpu.js 2.x). */
export interface GpuJs {
  createKernel(fn: (...args: never[]) => unknown, settings: Record<string, unknown>): GpuJsKernel;
  addFunction(fn: (...args: never[]) => unknown): unknown;
  destroy?(): void;
}
type GpuJsKernel = ((...args: unknown[]) => ArrayLike<ArrayLike<number>>) & { destroy?(): void };

export interface GpujsRun {
  params: (name: string) => Storage;
  inputs: Record<string, Storage>;
  sizes: Record<string, number>;
}

const isFloat = (dtype: string) => dtype === 'f32' || dtype === 'f16' || dtype === 'bf16';
// Generated source, compiled once per kernel (the target's output is code, as WGSL is for WebGPU), with the erf
// helper in scope.
const erf = new Function(`return ${erfSource}`)() as (x: number) => number;
const compile = (code: string) => new Function('erf_', `return ${code}`)(erf) as (...args: unknown[]) => void;

export class GpujsRunner {
  private readonly cpu = new Map<string, (...args: unknown[]) => void>();
  private readonly gpuKernels = new Map<string, GpuJsKernel>();
  /** Where each kernel ran the last forward ('gpu' or 'cpu'), for reports. */
  readonly placement: Record<string, 'gpu' | 'cpu'> = {};

  /** `gpu` undefined: every kernel runs as JavaScript on the CPU (the gpu.js kernels are plain JavaScript too). */
  constructor(readonly program: KernelProgram, readonly rendered: GpujsProgram, private readonly gpu?: GpuJs) {
    if (gpu) gpu.addFunction(erf as never);
  }

  private gpuKernel(k: GpujsKernel, threads: number): GpuJsKernel {
    const key = `${k.name}:${threads}`;
    let kernel = this.gpuKernels.get(key);
    if (!kernel) {
      kernel = this.gpu!.createKernel(compile(k.code) as never, {
        output: [threads], precision: 'single', tactic: 'precision', loopMaxIterations: 1 << 20,
        returnType: `Array(${2 * k.stores.length})`,
      });
      this.gpuKernels.set(key, kernel);
    }
    return kernel;
  }

  run(r: GpujsRun): Record<string, Storage> {
    const sizes = r.sizes;
    const bufs = new Map<string, Storage>();
    for (const b of this.program.buffers) {
      if (b.aliasOf) continue;
      const n = evalDim(b.size, sizes);
      if (b.kind === 'param') bufs.set(b.name, r.params(b.source));
      else if (b.kind === 'const') bufs.set(b.name, isFloat(b.dtype) ? Float32Array.from(b.data!) : Int32Array.from(b.data!));
      else if (b.kind === 'input') bufs.set(b.name, Int32Array.from(r.inputs[b.source]!));
      else bufs.set(b.name, isFloat(b.dtype) ? new Float32Array(n) : new Int32Array(n));
    }
    for (const b of this.program.buffers) if (b.aliasOf) bufs.set(b.name, bufs.get(b.aliasOf)!);
    const sz = Float64Array.from(this.rendered.sizes, (s) => {
      const v = sizes[s];
      if (v === undefined) throw new Error(`no size given for '${s}'`);
      return v;
    });
    this.rendered.kernels.forEach((k, i) => {
      const kernel = this.program.kernels[i]!;
      const threads = k.grid.reduce((n, e) => n * evalExtent(e, sizes), 1);
      if (k.mode === 'gpu' && this.gpu) {
        this.placement[k.name] = 'gpu';
        if (threads === 0) return;
        // gpu.js reads arrays of floats; at least one element each.
        const args = k.args.map((name) => {
          const data = bufs.get(name)!;
          return data.length === 0 ? new Float32Array(1) : data instanceof Float32Array ? data : Float32Array.from(data);
        });
        const out = this.gpuKernel(k, threads)(...args, Float32Array.from(sz.length ? sz : [0]));
        const targets = k.stores.map((name) => bufs.get(name)!);
        for (let t = 0; t < threads; t++) {
          const pairs = out[t]!;
          for (let s = 0; s < targets.length; s++) {
            const at = Math.round(pairs[2 * s]!);
            if (at >= 0) targets[s]![at] = pairs[2 * s + 1]!;
          }
        }
        return;
      }
      this.placement[k.name] = 'cpu';
      const name = `${k.name}${k.mode}`;
      let fn = this.cpu.get(name);
      if (!fn) {
        // A gpu.js kernel without gpu.js: its CPU form.
        fn = k.mode === 'cpu' ? compile(k.code) : cpuFallback(k, kernel, this.rendered.sizes);
        this.cpu.set(name, fn);
      }
      fn(...kernel.buffers.map((b) => bufs.get(b.name)!), sz);
    });
    return Object.fromEntries(this.program.outputs.map((o) => [o.name, bufs.get(o.buffer)!]));
  }

  destroy(): void {
    for (const k of this.gpuKernels.values()) k.destroy?.();
    this.gpuKernels.clear();
  }
}

/** A gpu.js kernel run as JavaScript, one call per thread, its stores scattered as the GPU path does. */
function cpuFallback(k: GpujsKernel, kernel: KernelProgram['kernels'][number], sizeNames: string[]): (...args: unknown[]) => void {
  const body = compile(k.code);
  return (...args: unknown[]) => {
    const sz = args[args.length - 1] as Float64Array;
    const sizes = Object.fromEntries(sizeNames.map((s, i) => [s, sz[i]!]));
    const threads = k.grid.reduce((n, e) => n * evalExtent(e, sizes), 1);
    const byName = new Map(kernel.buffers.map((b, i) => [b.name, args[i] as Storage]));
    const ins = k.args.map((n) => byName.get(n)!);
    for (let t = 0; t < threads; t++) {
      const pairs = body.call({ thread: { x: t, y: 0, z: 0 } }, ...ins, sz) as unknown as number[];
      k.stores.forEach((name, s) => {
        const at = Math.round(pairs[2 * s]!);
        if (at >= 0) byName.get(name)![at] = pairs[2 * s + 1]!;
      });
    }
  };
}
