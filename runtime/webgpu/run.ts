// Runs a kernel program rendered to WGSL: pipelines created once, weights uploaded once, temporaries in the memory
// plan's slots (one GPU buffer per slot, kept while the sizes fit), one command encoder per forward, the outputs
// read back through staging buffers.
import { evalDim } from '../../compiler/ir/dims.ts';
import type { KernelProgram, ProgramBuffer } from '../../compiler/kernel/ir.ts';
import type { MemoryPlan } from '../../compiler/kernel/memory-plan.ts';
import { evalExtent } from '../../codegen/grid.ts';
import { workgroupSize, type WgslPass, type WgslProgram } from '../../targets/wgsl/render.ts';
import type { GpuDevice } from './device.ts';
import { toHalf } from '../half.ts';
import type { OnProgress } from '../progress.ts';

export type Storage = Float32Array | Int32Array;

const isFloat = (b: { dtype: string }) => b.dtype === 'f32' || b.dtype === 'f16' || b.dtype === 'bf16';
/** Bytes of a buffer of n 32-bit elements (WebGPU wants a non-zero multiple of 4). */
const bytesOf = (n: number) => Math.max(4, n * 4);

/** Uploads in pieces of 64 MiB: a single writeBuffer of a multi-GB expert stack makes Dawn stage it all at once. */
function writeChunked(q: GPUQueue, buf: GPUBuffer, data: Storage | Uint16Array): void {
  const chunk = 64 << 20;
  for (let at = 0; at < data.byteLength; at += chunk) q.writeBuffer(buf, at, data.buffer, data.byteOffset + at, Math.min(chunk, data.byteLength - at));
}

export interface WebGpuRun {
  params: (name: string) => Storage;
  inputs: Record<string, Storage>;
  sizes: Record<string, number>;
  /** Debugging: every temporary gets a buffer of its own this run (no slot sharing), and each buffer the kernels
   * wrote is read back at the end and passed here (a value buffer's `source` is the graph value it holds). */
  inspect?: (buffer: ProgramBuffer, data: Storage) => void;
}

export class WebGpuProgram {
  /** Per kernel, the pipelines of its passes. */
  private readonly pipelines: GPUComputePipeline[][];
  private readonly layouts: GPUBindGroupLayout[];
  private readonly resident = new Map<string, GPUBuffer>();
  private slots: { buffer: GPUBuffer; bytes: number }[] = [];
  private loaded = false;

  private constructor(readonly gpu: GpuDevice, readonly program: KernelProgram, readonly plan: MemoryPlan, readonly wgsl: WgslProgram, layouts: GPUBindGroupLayout[], pipelines: GPUComputePipeline[][]) {
    this.layouts = layouts;
    this.pipelines = pipelines;
  }

  /** Compiles every kernel's pipeline (asynchronously: Dawn compiles on its own threads); `onProgress` counts
   * the pipelines created. */
  static async create(gpu: GpuDevice, program: KernelProgram, plan: MemoryPlan, wgsl: WgslProgram, options: { onProgress?: OnProgress } = {}): Promise<WebGpuProgram> {
    const device = gpu.device;
    // Explicit layouts ('auto' would drop bindings a shader never touches, and the bind groups would not match).
    const layouts = program.kernels.map((k) => device.createBindGroupLayout({
      label: k.name,
      entries: [
        ...k.buffers.map((b, j): GPUBindGroupLayoutEntry => ({ binding: j, visibility: GPUShaderStage.COMPUTE, buffer: { type: b.access === 'read' ? 'read-only-storage' : 'storage' } })),
        { binding: k.buffers.length, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform' } },
      ],
    }));
    const total = wgsl.kernels.reduce((n, k) => n + 1 + (k.next?.length ?? 0), 0);
    let created = 0;
    const label = 'webgpu: creating pipelines';
    const counted = async (p: Promise<GPUComputePipeline>) => {
      const pipeline = await p;
      options.onProgress?.(++created, total, label);
      return pipeline;
    };
    options.onProgress?.(0, total, label);
    const pipelines = await Promise.all(wgsl.kernels.map((k, i) => {
      const layout = device.createPipelineLayout({ bindGroupLayouts: [layouts[i]!] });
      return Promise.all([k, ...(k.next ?? [])].map((pass, j) => counted(device.createComputePipelineAsync({
        label: j === 0 ? k.name : `${k.name}.${j}`,
        layout,
        compute: { module: device.createShaderModule({ label: k.name, code: pass.code }), entryPoint: 'main' },
      }))));
    }));
    return new WebGpuProgram(gpu, program, plan, wgsl, layouts, pipelines);
  }

  /** A storage buffer, refused with the adapter's limit when one binding of it would be larger than the limit. */
  private buffer(bytes: number, label: string, usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC): GPUBuffer {
    const limit = this.gpu.device.limits.maxStorageBufferBindingSize;
    if (bytes > limit) throw new Error(`${label} needs ${bytes} bytes in one storage binding; this adapter (${this.gpu.adapter}) allows at most ${limit} (maxStorageBufferBindingSize)`);
    return this.gpu.device.createBuffer({ label, size: Math.max(4, Math.ceil(bytes / 4) * 4), usage });
  }

  /** Runs `body` with WebGPU's validation and out-of-memory errors turned into an exception (Dawn only logs them). */
  private async checked<T>(what: string, body: () => Promise<T> | T): Promise<T> {
    const device = this.gpu.device;
    device.pushErrorScope('validation');
    device.pushErrorScope('out-of-memory');
    let result: T;
    try {
      result = await body();
    } finally {
      const oom = await device.popErrorScope();
      const invalid = await device.popErrorScope();
      const error = oom ?? invalid;
      if (error) throw new Error(`WebGPU ${what}: ${error.message.split('\n')[0]}`);
    }
    return result;
  }

  /** Uploads the weights and constant tables (once). */
  async load(params: (name: string) => Storage): Promise<void> {
    if (this.loaded) return;
    await this.checked('upload of the weights', () => this.upload(params));
    this.loaded = true;
  }

  private upload(params: (name: string) => Storage): void {
    const half = new Set(this.wgsl.half?.buffers ?? []);
    const q = this.gpu.device.queue;
    for (const b of this.program.buffers) {
      if (b.aliasOf || (b.kind !== 'param' && b.kind !== 'const')) continue;
      const value = b.kind === 'const' ? (isFloat(b) ? Float32Array.from(b.data!) : Int32Array.from(b.data!)) : params(b.source);
      const data = half.has(b.name) ? toHalf(value as Float32Array) : value;
      const buf = this.buffer(data.byteLength, b.name);
      writeChunked(q, buf, data);
      this.resident.set(b.name, buf);
    }
  }

  async run(r: WebGpuRun, options: { repeat?: number } = {}): Promise<Record<string, Storage>> {
    await this.load(r.params);
    return this.checked('forward', () => this.forward(r, options));
  }

  private async forward(r: WebGpuRun, options: { repeat?: number }): Promise<Record<string, Storage>> {
    const device = this.gpu.device;
    const sizes = r.sizes;
    const bufs = new Map(this.resident);
    const perRun: GPUBuffer[] = [];
    // Temporaries: one buffer per plan slot, grown when the sizes outgrow it.
    this.plan.slots.forEach((s, i) => {
      const bytes = bytesOf(evalDim(s.size, sizes));
      if (!this.slots[i] || this.slots[i]!.bytes < bytes) {
        this.slots[i]?.buffer.destroy();
        this.slots[i] = { buffer: this.buffer(bytes, `slot${i}`), bytes };
      }
    });
    for (const b of this.program.buffers) {
      if (b.aliasOf || bufs.has(b.name)) continue;
      const slot = b.kind === 'temp' && !r.inspect ? this.plan.slotOf.get(b.name) : undefined;
      if (slot !== undefined) bufs.set(b.name, this.slots[slot]!.buffer);
      else {
        const buf = this.buffer(bytesOf(evalDim(b.size, sizes)), b.name);
        perRun.push(buf);
        bufs.set(b.name, buf);
        if (b.kind === 'input') {
          const data = r.inputs[b.source]!;
          writeChunked(device.queue, buf, data);
        }
      }
    }
    for (const b of this.program.buffers) if (b.aliasOf) bufs.set(b.name, bufs.get(b.aliasOf)!);
    // The sizes uniform: the program's size names in order, four to a vec4.
    const sizeData = new Int32Array(Math.max(4, Math.ceil(this.wgsl.sizes.length / 4) * 4));
    this.wgsl.sizes.forEach((s, i) => {
      const v = sizes[s];
      if (v === undefined) throw new Error(`no size given for '${s}'`);
      sizeData[i] = v;
    });
    const uniform = device.createBuffer({ label: 'sizes', size: sizeData.byteLength, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    device.queue.writeBuffer(uniform, 0, sizeData);
    perRun.push(uniform);

    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    const maxGroups = device.limits.maxComputeWorkgroupsPerDimension;
    // `repeat` encodes the forward several times in the one pass (for timing; the results are the same).
    const workgroups = (w: WgslPass): [number, number, number] => {
      if (w.dispatch) return w.dispatch.map((e) => evalExtent(e, sizes)) as [number, number, number];
      const total = w.grid.reduce((s, e) => s * evalExtent(e, sizes), 1);
      const groups = Math.ceil(total / workgroupSize);
      const x = Math.min(groups, maxGroups);
      return [x, x === 0 ? 0 : Math.ceil(groups / x), 1];
    };
    const groups = this.program.kernels.map((k, i) => {
      const entries: GPUBindGroupEntry[] = k.buffers.map((b, j) => ({ binding: j, resource: { buffer: bufs.get(b.name)! } }));
      entries.push({ binding: k.buffers.length, resource: { buffer: uniform } });
      return device.createBindGroup({ layout: this.layouts[i]!, entries });
    });
    for (let rep = 0; rep < (options.repeat ?? 1); rep++) this.program.kernels.forEach((_, i) => {
      const w = this.wgsl.kernels[i]!;
      [w, ...(w.next ?? [])].forEach((p, j) => {
        if (p.when && evalExtent(p.when, sizes) === 0) return;
        const [x, y, z] = workgroups(p);
        if (x * y * z === 0) return;
        pass.setPipeline(this.pipelines[i]![j]!);
        pass.setBindGroup(0, groups[i]!);
        pass.dispatchWorkgroups(x, y, z);
      });
    });
    pass.end();
    const written = new Set(this.program.kernels.flatMap((k) => k.buffers.filter((b) => b.access !== 'read').map((b) => b.name)));
    const inspected = r.inspect ? this.program.buffers.filter((b) => written.has(b.name)).map((b) => ({ name: `inspect ${b.name}`, buffer: b.name, inspect: true })) : [];
    const staging = [...this.program.outputs, ...inspected].map((o) => {
      const b = this.program.buffers.find((x) => x.name === o.buffer)!;
      const bytes = bytesOf(evalDim(b.size, sizes));
      const s = device.createBuffer({ label: `read ${o.name}`, size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      encoder.copyBufferToBuffer(bufs.get(o.buffer)!, 0, s, 0, bytes);
      return { o, b, s };
    });
    device.queue.submit([encoder.finish()]);
    const out: Record<string, Storage> = {};
    for (const { o, b, s } of staging) {
      await s.mapAsync(GPUMapMode.READ);
      const n = evalDim(b.size, sizes);
      const range = s.getMappedRange(0, n * 4 || 4);
      const data = isFloat(b as ProgramBuffer) ? new Float32Array(range.slice(0, n * 4)) : new Int32Array(range.slice(0, n * 4));
      if ('inspect' in o) r.inspect!(b, data);
      else out[o.name] = data;
      s.unmap();
      s.destroy();
    }
    for (const b of perRun) b.destroy();
    return out;
  }

  destroy(): void {
    for (const b of this.resident.values()) b.destroy();
    for (const s of this.slots) s.buffer.destroy();
  }
}
