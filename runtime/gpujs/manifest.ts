// The manifest of a model compiled for gpu.js (`moec compile --target gpujs`): the kernel program and, per kernel,
// where it runs and how it is launched; the kernels' code is in kernels.js beside it (an ES module exporting each
// kernel's function by name), so a page imports it without evaluating strings.
import type { Expr, KernelProgram } from '../../compiler/kernel/ir.ts';
import { erfSource, type GpujsKernel, type GpujsProgram } from '../../targets/gpujs/render.ts';
import type { NameMapping } from '../weights/bind.ts';

export interface GpujsManifest {
  format: 'moec-compiled/1';
  model: string;
  target: 'gpujs';
  sizes: string[];
  vocab: number;
  program: KernelProgram;
  /** The file of kernel functions beside the manifest. */
  module: string;
  kernels: { name: string; mode: 'gpu' | 'cpu'; grid: Expr[]; args: string[]; stores: string[]; cpu?: string }[];
  params: { name: string; shape: number[] }[];
  checkpoint: NameMapping[];
}

export function checkManifest(m: GpujsManifest, where: string): GpujsManifest {
  if (m.format !== 'moec-compiled/1' || m.target !== 'gpujs') throw new Error(`${where}: not a moec model compiled for gpu.js`);
  return m;
}

/** kernels.js: every kernel's function, exported under its name. */
export function kernelModule(p: GpujsProgram, header: string): string {
  return [`// ${header}`, `const erf_ = ${erfSource};`, ...p.kernels.map((k) => `export const ${k.name} = ${k.code.replace(/^function [A-Za-z0-9_]*\(/, 'function (')};`), ''].join('\n\n');
}

/** The rendered program back from the manifest and the kernel module's exports. */
export function gpujsFromManifest(m: GpujsManifest, functions: Record<string, { toString(): string }>): GpujsProgram {
  return {
    sizes: m.sizes,
    kernels: m.kernels.map((k): GpujsKernel => {
      const fn = functions[k.name];
      if (!fn) throw new Error(`${m.module} has no kernel ${k.name}`);
      return { ...k, ops: [], code: fn.toString() };
    }),
  };
}
