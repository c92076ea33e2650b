// The manifest of a compiled program (manifest.json beside model.wasm): everything the runtime needs to run it
// without the compiler: buffers and their planned slots, kernels in launch order, inputs, outputs, and how
// parameters bind to checkpoint tensors.
import type { KernelProgram } from '../../compiler/kernel/ir.ts';
import type { MemoryPlan } from '../../compiler/kernel/memory-plan.ts';
import type { NameMapping } from '../weights/bind.ts';

export interface Manifest {
  format: 'moec-compiled/1';
  model: string;
  target: string;
  /** Run-time sizes every kernel takes after its buffer addresses. */
  sizes: string[];
  vocab: number;
  program: KernelProgram;
  /** The module per instruction set (file names beside the manifest); the loader picks what the engine has. */
  binaries: { simd: string; relaxed: string };
  plan: { slots: MemoryPlan['slots']; slotOf: Record<string, number>; lifetimes: Record<string, [number, number]> };
  params: { name: string; shape: number[] }[];
  checkpoint: NameMapping[];
}

export function planToJson(plan: MemoryPlan): Manifest['plan'] {
  return { slots: plan.slots, slotOf: Object.fromEntries(plan.slotOf), lifetimes: Object.fromEntries(plan.lifetimes) };
}

export function planFromJson(plan: Manifest['plan']): MemoryPlan {
  return { slots: plan.slots, slotOf: new Map(Object.entries(plan.slotOf)), lifetimes: new Map(Object.entries(plan.lifetimes)) };
}
