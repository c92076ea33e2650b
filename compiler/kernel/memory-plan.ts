// The memory planner: buffer lifetimes from the kernel order, and reuse of dead buffers. A temporary whose last
// reader has run frees its storage for a later temporary of the same dtype and (symbolic) size, so the plan holds
// for every batch and sequence length.
import { evalDim, normDim } from '../ir/dims.ts';
import type { Dim, DType } from '../ir/types.ts';
import type { KernelProgram } from './ir.ts';

export interface MemoryPlan {
  /** Temporary buffer → the storage slot it lives in. */
  slotOf: Map<string, number>;
  slots: { dtype: DType; size: Dim }[];
  /** Kernel index of each buffer's first write and last read. */
  lifetimes: Map<string, [number, number]>;
}

const bytes = (dtype: DType) => (dtype === 'f16' || dtype === 'bf16' ? 2 : dtype === 'i64' ? 8 : dtype === 'bool' ? 1 : 4);

export function planMemory(p: KernelProgram): MemoryPlan {
  const root = (name: string) => p.buffers.find((b) => b.name === name)?.aliasOf ?? name;
  const temps = new Map(p.buffers.filter((b) => b.kind === 'temp' && !b.aliasOf).map((b) => [b.name, b]));
  const lifetimes = new Map<string, [number, number]>();
  p.kernels.forEach((k, i) => {
    for (const b of k.buffers) {
      const r = root(b.name);
      if (!temps.has(r)) continue;
      const span = lifetimes.get(r);
      lifetimes.set(r, span ? [span[0], i] : [i, i]);
    }
  });
  const slotOf = new Map<string, number>();
  const slots: MemoryPlan['slots'] = [];
  const freeAt: number[] = [];
  const order = [...lifetimes.entries()].sort((a, b) => a[1][0] - b[1][0]);
  for (const [name, [start, end]] of order) {
    const b = temps.get(name)!;
    const size = normDim(b.size);
    const reuse = slots.findIndex((s, i) => freeAt[i]! < start && s.dtype === b.dtype && normDim(s.size) === size);
    const slot = reuse >= 0 ? reuse : slots.push({ dtype: b.dtype, size }) - 1;
    // A scratch buffer dies with its kernel; a value lives until its last reader.
    freeAt[slot] = end;
    slotOf.set(name, slot);
  }
  return { slotOf, slots, lifetimes };
}

export interface MemoryReport {
  buffers: number;
  slots: number;
  unplannedBytes: number;
  plannedBytes: number;
  paramBytes: number;
}

/** Bytes at concrete sizes: every temporary in its own buffer, against the plan's slots (plus inputs and outputs). */
export function memoryReport(p: KernelProgram, plan: MemoryPlan, sizes: Record<string, number>): MemoryReport {
  const n = (b: { dtype: DType; size: Dim }) => evalDim(b.size, sizes) * bytes(b.dtype);
  const temps = p.buffers.filter((b) => b.kind === 'temp' && !b.aliasOf);
  const fixed = p.buffers.filter((b) => (b.kind === 'input' || b.kind === 'output' || b.kind === 'const') && !b.aliasOf);
  const fixedBytes = fixed.reduce((s, b) => s + n(b), 0);
  return {
    buffers: temps.length,
    slots: plan.slots.length,
    unplannedBytes: fixedBytes + temps.reduce((s, b) => s + n(b), 0),
    plannedBytes: fixedBytes + plan.slots.reduce((s, b) => s + n(b), 0),
    paramBytes: p.buffers.filter((b) => b.kind === 'param').reduce((s, b) => s + n(b), 0),
  };
}
