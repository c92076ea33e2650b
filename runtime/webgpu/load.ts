// Loads a model compiled for WebGPU (manifest.json and its .wgsl shaders) and runs it on a checkpoint: no compiler
// involved. The device opens last, after the weights are bound.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readInputs, tokenFeeds } from '../inputs.ts';
import { openCheckpoint } from '../safetensors/index.ts';
import { planFromJson } from '../wasm/manifest.ts';
import { bindWeights } from '../weights/bind.ts';
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
  const checkpoint = openCheckpoint(weights);
  const params = manifest.params.map((p) => ({ name: p.name, type: { dtype: 'f32' as const, shape: p.shape }, attrs: {} }));
  const bound = bindWeights(params, manifest.checkpoint, checkpoint, weights);
  checkpoint.close();
  const gpu = await openDevice(options.adapter);
  const program = await WebGpuProgram.create(gpu, manifest.program, planFromJson(manifest.plan), wgsl);
  return {
    manifest,
    adapter: gpu.adapter,
    async run(inputsJson: string) {
      const inputs = readInputs(inputsJson, manifest.program.inputs.map((i) => i.name), manifest.vocab);
      const { ids, sizes } = tokenFeeds(inputs);
      return program.run({ params: (n) => bound.get(n)!.data, inputs: ids, sizes });
    },
    close() {
      program.destroy();
      gpu.device.destroy();
    },
  };
}
