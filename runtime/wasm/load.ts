// Loads a compiled model folder (manifest.json, model.wasm) and runs it on a checkpoint: no compiler involved.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readInputs, tokenFeeds } from '../inputs.ts';
import { openCheckpoint } from '../safetensors/index.ts';
import { bindWeights } from '../weights/bind.ts';
import { relaxedSimdSupported } from './features.ts';
import { planFromJson, type Manifest } from './manifest.ts';
import { WasmProgram, type Storage } from './run.ts';

export interface CompiledModel {
  manifest: Manifest;
  /** Runs on token ids from an inputs.json file; returns the outputs by name. */
  run(inputsJson: string): Record<string, Storage>;
  close(): void;
}

export function loadCompiledModel(dir: string, weights: string, options: { threads?: number } = {}): CompiledModel {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  if (manifest.format !== 'moec-compiled/1') throw new Error(`${join(dir, 'manifest.json')}: not a moec compiled model (format ${String(manifest.format)})`);
  const binary = readFileSync(join(dir, relaxedSimdSupported() ? manifest.binaries.relaxed : manifest.binaries.simd));
  const wasm = new WasmProgram(manifest.program, planFromJson(manifest.plan), binary, manifest.sizes, { threads: options.threads });
  const checkpoint = openCheckpoint(weights);
  const params = manifest.params.map((p) => ({ name: p.name, type: { dtype: 'f32' as const, shape: p.shape }, attrs: {} }));
  const bound = bindWeights(params, manifest.checkpoint, checkpoint, weights);
  checkpoint.close();
  return {
    manifest,
    run(inputsJson: string) {
      const inputs = readInputs(inputsJson, manifest.program.inputs.map((i) => i.name), manifest.vocab);
      const { ids, sizes } = tokenFeeds(inputs);
      return wasm.run({ params: (n) => bound.get(n)!.data, inputs: ids, sizes });
    },
    close() {
      wasm.close();
    },
  };
}
