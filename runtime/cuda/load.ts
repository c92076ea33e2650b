// Loading a model compiled for CUDA. The runtime that launches model.cu's kernels (the CUDA driver API and NVRTC
// through an FFI) is not written yet: loading checks the manifest and then says so, instead of failing deeper in.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CudaManifest } from './manifest.ts';

export type Storage = Float32Array | Int32Array;

export interface CompiledModel {
  manifest: CudaManifest;
  /** Runs on token ids from an inputs.json file; returns the outputs by name. */
  run(inputsJson: string): Promise<Record<string, Storage>>;
  close(): void;
}

export async function loadCompiledModel(dir: string, _weights: string): Promise<CompiledModel> {
  const path = join(dir, 'manifest.json');
  const manifest = JSON.parse(readFileSync(path, 'utf8')) as CudaManifest;
  if (manifest.format !== 'moec-compiled/1' || manifest.target !== 'cuda') throw new Error(`${path}: not a moec model compiled for CUDA`);
  throw new Error(`${path}: running models compiled for CUDA is not supported yet (the CUDA runtime is still to come); compile for --target wasm or wgsl to run it`);
}
