// Loads a model compiled for CUDA (manifest.json and model.cu) and runs it on a checkpoint: no compiler involved.
// model.cu is compiled by NVRTC for the machine's GPU when loaded; the weights are bound before the GPU is opened.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bindCompiledWeights, compiledFeeds } from '../compiled.ts';
import { planFromJson } from '../wasm/manifest.ts';
import { openCuda } from './driver.ts';
import type { CudaManifest } from './manifest.ts';
import { CudaProgram, type Storage } from './run.ts';

export type { Storage };

export interface CompiledModel {
  manifest: CudaManifest;
  device: string;
  /** Runs on token ids from an inputs.json file; returns the outputs by name. */
  run(inputsJson: string): Promise<Record<string, Storage>>;
  close(): void;
}

export async function loadCompiledModel(dir: string, weights: string): Promise<CompiledModel> {
  const path = join(dir, 'manifest.json');
  const manifest = JSON.parse(readFileSync(path, 'utf8')) as CudaManifest;
  if (manifest.format !== 'moec-compiled/1' || manifest.target !== 'cuda') throw new Error(`${path}: not a moec model compiled for CUDA`);
  const source = readFileSync(join(dir, manifest.source), 'utf8');
  const bound = bindCompiledWeights(manifest, weights);
  const cuda = openCuda();
  const program = new CudaProgram(cuda, manifest.program, planFromJson(manifest.plan), { source, sizes: manifest.sizes, launches: manifest.launches, precision: manifest.precision, bf16: manifest.bf16, arch: manifest.arch });
  return {
    manifest,
    device: cuda.device,
    async run(inputsJson: string) {
      const { ids, sizes } = compiledFeeds(manifest, inputsJson);
      return program.run({ params: (n) => bound.get(n)!.data, inputs: ids, sizes });
    },
    close() {
      program.destroy();
      cuda.close();
    },
  };
}
