// What both GPU benchmarks read from bench/torch_moe.py's output folder: PyTorch's timings, and its f32 outputs and
// expert choices on the weights both sides make from the same hash, to compare a layer's output with.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TorchTiming { shape: string; tokens: number; variant: string; ms: number }

export function readTorch(dir: string): { machine: string; results: TorchTiming[] } {
  return JSON.parse(readFileSync(join(dir, 'timings.json'), 'utf8')) as { machine: string; results: TorchTiming[] };
}

export const relativeL2 = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let num = 0, den = 0;
  for (let i = 0; i < b.length; i++) { num += (a[i]! - b[i]!) ** 2; den += b[i]! ** 2; }
  return Math.sqrt(num / den);
};

/** A file's bytes as an ArrayBuffer of their own (a small file's Buffer is a view into Node's shared pool). */
const bytes = (path: string) => Uint8Array.from(readFileSync(path)).buffer;

/**
 * moec's layer output `y` and expert choices [tokens, k] against PyTorch's f32 ones: relative L2, and the fraction of
 * tokens sent to the same set of experts. Undefined when PyTorch did not run this shape.
 */
export function compareWithTorch(dir: string, key: string, tokens: number, y: Float32Array, experts: Int32Array, k: number): { relL2: number; sameExperts: number } | undefined {
  const yPath = join(dir, `y_${key}_${tokens}.f32`);
  if (!existsSync(yPath)) return undefined;
  const want = new Float32Array(bytes(yPath));
  const e = new Int32Array(bytes(join(dir, `experts_${key}_${tokens}.i32`)));
  const set = (a: Int32Array, t: number) => [...a.subarray(t * k, (t + 1) * k)].sort((p, q) => p - q).join();
  let same = 0;
  for (let t = 0; t < tokens; t++) if (set(experts, t) === set(e, t)) same++;
  return { relL2: relativeL2(y, want), sameExperts: same / tokens };
}
