// Runs a kernel program rendered to WGSL: pipelines created once, weights uploaded once, temporaries in the memory
// plan's slots (one GPU buffer per slot, kept while the sizes fit), one command encoder per forward, the outputs
// read back through staging buffers.
import { evalDim } from '../../compiler/ir/dims.ts';
import type { KernelProgram, ProgramBuffer } from '../../compiler/kernel/ir.ts';
import type { MemoryPlan } from '../../compiler/kernel/memory-plan.ts';
import { evalExtent, workgroupSize, type WgslProgram } from '../../targets/wgsl/render.ts';
import type { GpuDevice } from './device.ts';

export type Storage = Float32Array | Int32Array;

const isFloat = (b: { dtype: string }) => b.dtype === 'f32' || b.dtype === 'f16' || b.dtype === 'bf16';
/** Bytes of a buffer of n 32-bit elements (WebGPU wants a non-zero multiple of 4). */
const bytesOf = (n: number) => Math.max(4, n * 4);

export interface WebGpuRun {
  params: (name: string) => Storage;
  inputs: Record<string, Storage>;
  sizes: Record<string, number>;
}

export class WebGpuProgram {
  private readonly pipelines: GPUComputePipeline[];
  private readonly layouts: GPUBindGroupLayout[];
  private readonly resident = new Map<string, GPUBuffer>();
  private slots: { buffer: GPUBuffer; bytes: number }[] = [];
  private loaded = false;

  private constructor(readonly gpu: GpuDevice, readonly program: KernelProgram, readonly plan: MemoryPlan, readonly wgsl: WgslProgram, layouts: GPUBindGroupLayout[], pipelines: GPUComputePipeline[]) {
    this.layouts = layouts;
    this.pipelines = pipelines;
  }

  /** Compiles every kernel's pipeline (asynchronously: Dawn compiles on its own threads). */
  static async create(gpu: GpuDevice, program: KernelProgram, plan: MemoryPlan, wgsl: WgslProgram): Promise<WebGpuProgram> {
    const device = gpu.device;
    // Explicit layouts ('auto' would drop bindings a shader never touches, and the bind groups would not match).
    const layouts = program.kernels.map((k) => device.createBindGroupLayout({
      label: k.name,
      entries: [
        ...k.buffers.map((b, j): GPUBindGroupLayoutEntry => ({ binding: j, visibility: GPUShaderStage.COMPUTE, buffer: { type: b.access === 'read' ? 'read-only-storage' : 'storage' } })),
        { binding: k.buffers.length, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform' } },
      ],
    }));
    const pipelines = await Promise.all(wgsl.kernels.map((k, i) => device.createComputePipelineAsync({
      label: k.name,
      layout: device.createPipelineLayout({ bindGroupLayouts: [layouts[i]!] }),
      compute: { module: device.createShaderModule({ label: k.name, code: k.code }), entryPoint: 'main' },
    })));
    return new WebGpuProgram(gpu, program, plan, wgsl, layouts, pipelines);
  }

  private buffer(bytes: number, label: string, usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC): GPUBuffer {
    return this.gpu.device.createBuffer({ label, size: Math.max(4, Math.ceil(bytes / 4) * 4), usage });
  }

  /** Uploads the weights and constant tables (once). */
  load(params: (name: string) => Storage): void {
    if (this.loaded) return;
    const q = this.gpu.device.queue;
    for (const b of this.program.buffers) {
      if (b.aliasOf || (b.kind !== 'param' && b.kind !== 'const')) continue;
      const data = b.kind === 'const' ? (isFloat(b) ? Float32Array.from(b.data!) : Int32Array.from(b.data!)) : params(b.source);
      const buf = this.buffer(data.byteLength, b.name);
      q.writeBuffer(buf, 0, data.buffer, data.byteOffset, data.byteLength);
      this.resident.set(b.name, buf);
    }
    this.loaded = true;
  }

  async run(r: WebGpuRun, options: { repeat?: number } = {}): Promise<Record<string, Storage>> {
    this.load(r.params);
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
      const slot = b.kind === 'temp' ? this.plan.slotOf.get(b.name) : undefined;
      if (slot !== undefined) bufs.set(b.name, this.slots[slot]!.buffer);
      else {
        const buf = this.buffer(bytesOf(evalDim(b.size, sizes)), b.name);
        perRun.push(buf);
        bufs.set(b.name, buf);
        if (b.kind === 'input') {
          const data = r.inputs[b.source]!;
          device.queue.writeBuffer(buf, 0, data.buffer, data.byteOffset, data.byteLength);
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
    for (let rep = 0; rep < (options.repeat ?? 1); rep++) this.program.kernels.forEach((k, i) => {
      const w = this.wgsl.kernels[i]!;
      let [x, y, z] = [1, 1, 1];
      if (w.dispatch) {
        [x, y, z] = w.dispatch.map((e) => evalExtent(e, sizes)) as [number, number, number];
        if (x * y * z === 0) return;
      } else {
        const total = w.grid.reduce((s, e) => s * evalExtent(e, sizes), 1);
        if (total === 0) return;
        const groups = Math.ceil(total / workgroupSize);
        x = Math.min(groups, maxGroups);
        y = Math.ceil(groups / x);
      }
      const entries: GPUBindGroupEntry[] = k.buffers.map((b, j) => ({ binding: j, resource: { buffer: bufs.get(b.name)! } }));
      entries.push({ binding: k.buffers.length, resource: { buffer: uniform } });
      const group = device.createBindGroup({ layout: this.layouts[i]!, entries });
      pass.setPipeline(this.pipelines[i]!);
      pass.setBindGroup(0, group);
      pass.dispatchWorkgroups(x, y, z);
    });
    pass.end();
    const staging = this.program.outputs.map((o) => {
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
      out[o.name] = isFloat(b as ProgramBuffer) ? new Float32Array(range.slice(0, n * 4)) : new Int32Array(range.slice(0, n * 4));
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
