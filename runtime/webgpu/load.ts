// Loads a model compiled for WebGPU (manifest.json and its .wgsl shaders) and runs it on a checkpoint: no compiler
// involved. The device opens last, after the weights are bound.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bindCompiledWeights, compiledFeeds } from '../compiled.ts';
import { planFromJson } from '../wasm/manifest.ts';
import { openDevice } from './device.ts';
import { WebGpuProgram, type Storage } from './run.ts';
import { checkManifest, wgslFromManifest, type WgslManifest } from './manifest.ts';

export type { ShaderFile, WgslManifest } from './manifest.ts';

export interface CompiledModel {
  manifest: WgslManifest;
  adapter: string;
  /** Runs on token ids from an inputs.json file; returns the outputs by name. */
  run(inputsJson: string): Promise<Record<string, Storage>>;
  close(): void;
}

export async function loadCompiledModel(dir: string, weights: string, options: { adapter?: string } = {}): Promise<CompiledModel> {
  const where = join(dir, 'manifest.json');
  const manifest = checkManifest(JSON.parse(readFileSync(where, 'utf8')) as WgslManifest, where);
  const wgsl = wgslFromManifest(manifest, (file) => readFileSync(join(dir, file), 'utf8'));
  const bound = bindCompiledWeights(manifest, weights);
  const gpu = await openDevice(options.adapter);
  const program = await WebGpuProgram.create(gpu, manifest.program, planFromJson(manifest.plan), wgsl);
  return {
    manifest,
    adapter: gpu.adapter,
    async run(inputsJson: string) {
      const { ids, sizes } = compiledFeeds(manifest, inputsJson);
      return program.run({ params: (n) => bound.get(n)!.data, inputs: ids, sizes });
    },
    close() {
      program.destroy();
      gpu.device.destroy();
    },
  };
}
