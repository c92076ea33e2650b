// NaN and ±Inf in weights: one NaN weight turns every output it reaches into NaN, silently, so a checkpoint holding
// one is refused where weights are bound, naming the tensor and the first bad element.
import { formatShape } from '../safetensors/index.ts';

/** The index of the first NaN or ±Inf in `data`, or -1: one pass, `v - v` is 0 for every finite v and NaN otherwise. */
export function firstNonFinite(data: Float32Array): number {
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v - v !== 0) return i;
  }
  return -1;
}

/** Row-major flat index → multi-index, for the message. */
function multiIndex(flat: number, shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length).fill(0);
  for (let d = shape.length - 1, rest = flat; d >= 0; d--) {
    out[d] = rest % shape[d]!;
    rest = Math.floor(rest / shape[d]!);
  }
  return out;
}

/** The problem with a tensor's values, or undefined when every value is finite. */
export function nonFiniteProblem(name: string, data: Float32Array, shape: readonly number[]): string | undefined {
  const i = firstNonFinite(data);
  if (i < 0) return undefined;
  return `tensor '${name}': element ${i} (at ${formatShape(multiIndex(i, shape))} of ${formatShape(shape)}) is ${data[i]}; a NaN or infinite weight poisons every output it reaches, so the checkpoint is refused`;
}
