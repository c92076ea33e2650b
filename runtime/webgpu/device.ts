// A WebGPU device: navigator.gpu in a browser, the `webgpu` package (Dawn) in Node. A missing adapter is one clear
// error that says how to get one.

export class AdapterError extends Error {
  override name = 'AdapterError';
}

export interface GpuDevice {
  device: GPUDevice;
  /** The adapter's vendor, architecture and description, for reports. */
  adapter: string;
  features: string[];
  /**
   * What generated shaders may use: the features, less `subgroups` where a 64-invocation workgroup's subgroups are
   * not runs of consecutive invocations (WebGPU does not promise that layout; the shaders' reductions assume it).
   */
  shaderFeatures: string[];
}

/** Whether subgroups are consecutive invocations of equal size dividing 64, as the generated reductions assume. */
async function subgroupsAreConsecutive(device: GPUDevice): Promise<boolean> {
  const code = `enable subgroups;
@group(0) @binding(0) var<storage, read_write> out: array<u32>;
@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) i: u32, @builtin(subgroup_invocation_id) lane: u32, @builtin(subgroup_size) size: u32) {
  out[i] = lane + 1000u * size;
}`;
  const pipeline = await device.createComputePipelineAsync({ layout: 'auto', compute: { module: device.createShaderModule({ code }), entryPoint: 'main' } });
  const out = device.createBuffer({ size: 256, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
  const read = device.createBuffer({ size: 256, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: out } }] }));
  pass.dispatchWorkgroups(1);
  pass.end();
  encoder.copyBufferToBuffer(out, 0, read, 0, 256);
  device.queue.submit([encoder.finish()]);
  await read.mapAsync(GPUMapMode.READ);
  const v = new Uint32Array(read.getMappedRange().slice(0));
  read.unmap();
  out.destroy();
  read.destroy();
  const size = Math.floor(v[0]! / 1000);
  return size >= 4 && 64 % size === 0 && v.every((x, i) => x === (i % size) + 1000 * size);
}

/**
 * The `webgpu` package's GPU object, created once and kept: if it is garbage-collected, Dawn's instance goes with it
 * while devices made from it still run, and the process crashes (a failed pthread assertion or "futex facility
 * returned an unexpected error code", whenever a GC happens to run).
 */
let nodeInstance: GPU | undefined;
async function nodeGpu(): Promise<GPU> {
  if (nodeInstance) return nodeInstance;
  const { create, globals } = (await import('webgpu')) as { create: (flags: string[]) => GPU; globals: Record<string, unknown> };
  Object.assign(globalThis, globals);
  nodeInstance = create([]);
  return nodeInstance;
}

const howToGetOne = 'On Linux without a GPU, install Mesa 25 or later (lavapipe, the CPU Vulkan driver): on Debian bookworm `apt-get install -t bookworm-backports mesa-vulkan-drivers` (runtime/webgpu/install-lavapipe.sh does it); Mesa 22 is rejected by Dawn.';

/** Opens a device on the adapter whose description contains `want` (any adapter when undefined). */
export async function openDevice(want?: string): Promise<GpuDevice> {
  const gpu = typeof navigator !== 'undefined' && (navigator as { gpu?: GPU }).gpu ? (navigator as { gpu: GPU }).gpu : await nodeGpu();
  const candidates: GPUAdapter[] = [];
  for (const powerPreference of ['high-performance', 'low-power'] as const) {
    const a = await gpu.requestAdapter({ powerPreference });
    if (a) candidates.push(a);
  }
  const describe = (a: GPUAdapter) => {
    const i = a.info;
    return [i.vendor, i.architecture, i.device, i.description].filter((s) => s).join(' ');
  };
  const adapter = candidates.find((a) => want === undefined || describe(a).toLowerCase().includes(want.toLowerCase()));
  if (!adapter) {
    if (candidates.length === 0) throw new AdapterError(`no WebGPU adapter found. ${howToGetOne}`);
    throw new AdapterError(`no WebGPU adapter matches '${want}'; found: ${[...new Set(candidates.map(describe))].join('; ')}`);
  }
  const features = (['shader-f16', 'subgroups'] as GPUFeatureName[]).filter((f) => adapter.features.has(f));
  const l = adapter.limits;
  const device = await adapter.requestDevice({
    requiredFeatures: features,
    requiredLimits: {
      maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
    },
  });
  const shaderFeatures = features.includes('subgroups') && !(await subgroupsAreConsecutive(device)) ? features.filter((f) => f !== 'subgroups') : features;
  return { device, adapter: describe(adapter), features, shaderFeatures };
}
