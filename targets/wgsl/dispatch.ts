// The MoE dispatch on WebGPU: the six grid-wide passes of compiler/kernel/parallel-dispatch.ts as passes of one
// kernel on the same bindings, each rendered like any other loop nest.
import type { DispatchSpec, Kernel } from '../../compiler/kernel/ir.ts';
import { dispatchPasses } from '../../compiler/kernel/parallel-dispatch.ts';
import { renderKernel, type HalfWeights, type WgslKernel } from './render.ts';

/** The dispatch kernel as its six passes: the first is the kernel, the rest run after it on the same bindings. */
export function renderDispatch(k: Kernel, s: DispatchSpec, sizes: string[], half?: HalfWeights): WgslKernel {
  const [first, ...rest] = dispatchPasses(k, s).map((p) => renderKernel(p, sizes, half));
  return { ...first!, name: k.name, next: rest.map(({ code, grid }) => ({ code, grid })) };
}
