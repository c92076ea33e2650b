// Whether a model fits where it is to run: the bytes its parameters and activations need against what the target can
// hold, checked before anything is allocated, and refused with both numbers.

export class LimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LimitError';
  }
}

/** What a run needs, at its batch and sequence length. */
export interface Needs {
  model: string;
  /** Parameters as f32 (how every target binds them on the host). */
  paramBytes: number;
  /** Activations at the memory plan's peak (inputs, outputs and planned temporaries). */
  activationBytes: number;
  /** The tensor with the most elements, parameter or activation. */
  largest: { name: string; elements: number };
  /** e.g. 'batch 1, seq 3' */
  at: string;
}

/** What a target can hold; either bound may be absent. */
export interface Limit {
  /** All parameters and activations together, in bytes, and the sentence that says why. */
  totalBytes?: number;
  total?: string;
  /** One tensor, in f32 elements, and the sentence that says why. */
  tensorElements?: number;
  tensor?: string;
}

const group = (n: number) => Math.round(n).toLocaleString('en-US');

/** What a target holds: exact binary units where the limit is a multiple of one (4 GiB), decimal otherwise. */
export function formatBytes(n: number): string {
  for (const [unit, size] of [['TiB', 2 ** 40], ['GiB', 2 ** 30], ['MiB', 2 ** 20], ['KiB', 2 ** 10]] as const) {
    if (n >= size && n % size === 0 && n / size < 1024) return `${n / size} ${unit}`;
  }
  return formatNeed(n);
}

/** What a run needs: decimal units, as parameter counts are quoted. */
export function formatNeed(n: number): string {
  for (const [unit, size] of [['TB', 1e12], ['GB', 1e9], ['MB', 1e6], ['kB', 1e3]] as const) {
    if (n >= size) return `${(n / size).toFixed(2)} ${unit}`;
  }
  return `${n} bytes`;
}

/** Throws a LimitError when the run does not fit: the tensor bound first (the more specific), then the total. */
export function checkFits(needs: Needs, limit: Limit): void {
  if (limit.tensorElements !== undefined && needs.largest.elements > limit.tensorElements) {
    throw new LimitError(`${needs.model}: ${needs.largest.name} has ${group(needs.largest.elements)} elements (at ${needs.at}); ${limit.tensor}`);
  }
  const total = needs.paramBytes + needs.activationBytes;
  if (limit.totalBytes !== undefined && total > limit.totalBytes) {
    throw new LimitError(`${needs.model} needs ${formatNeed(needs.paramBytes)} of f32 parameters and ${formatNeed(needs.activationBytes)} of activations (at ${needs.at}), ${formatNeed(total)} in all; ${limit.total}`);
  }
}

/** WebAssembly as moec renders it: 32-bit addresses (memory32), at most 65536 pages of 64 KiB. */
export const wasmLimit: Limit = {
  totalBytes: 2 ** 32,
  total: 'the wasm target addresses at most 4 GiB (memory32: 65536 pages of 64 KiB), weights and activations together',
};

/** The reference executor: every tensor in one Float32Array (V8 in Node 20 allows 2^32 elements), all of them in host memory. */
export function referenceLimit(hostBytes: number): Limit {
  return {
    tensorElements: 2 ** 32,
    tensor: 'the reference executor holds each tensor in one Float32Array, at most 4,294,967,296 (2^32) elements in Node',
    totalBytes: hostBytes,
    total: `this machine has ${formatBytes(hostBytes)} of memory`,
  };
}

/** Every target binds the weights as f32 on the host before it uploads them. */
export function hostLimit(hostBytes: number): Limit {
  return { totalBytes: hostBytes, total: `moec reads the weights into host memory as f32 first, and this machine has ${formatBytes(hostBytes)} of memory` };
}

/** A WebGPU adapter: one buffer is bound whole, so the largest tensor must fit one storage binding. */
export function webgpuLimit(adapter: string, maxStorageBufferBindingSize: number, maxBufferSize: number): Limit {
  const bytes = Math.min(maxStorageBufferBindingSize, maxBufferSize);
  const which = maxStorageBufferBindingSize <= maxBufferSize ? 'maxStorageBufferBindingSize' : 'maxBufferSize';
  return { tensorElements: Math.floor(bytes / 4), tensor: `the adapter ${adapter} binds at most ${formatBytes(bytes)} (${group(bytes / 4)} f32 elements) in one buffer (${which})` };
}

/** A CUDA device: weights and activations in its global memory (the total the driver reports). */
export function cudaLimit(device: string, totalMemory: number): Limit {
  return { totalBytes: totalMemory, total: `the CUDA device ${device} has ${formatBytes(totalMemory)} of memory` };
}
