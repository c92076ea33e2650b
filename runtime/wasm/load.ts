// Loads a compiled model folder (manifest.json, model.wasm) and runs it on a checkpoint: no compiler involved.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bindCompiledWeights, compiledFeeds } from '../compiled.ts';
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
  const bound = bindCompiledWeights(manifest, weights);
  return {
    manifest,
    run(inputsJson: string) {
      const { ids, sizes } = compiledFeeds(manifest, inputsJson);
      return wasm.run({ params: (n) => bound.get(n)!.data, inputs: ids, sizes });
    },
    close() {
      wasm.close();
    },
  };
}
