// Loads a model compiled for WebGPU (manifest.json and its .wgsl shaders) and runs it on a checkpoint: no compiler
// involved. The device opens last, after the weights are bound.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KernelProgram } from '../../compiler/kernel/ir.ts';
import type { Expr } from '../../compiler/kernel/ir.ts';
import { readInputs, tokenFeeds } from '../inputs.ts';
import { openCheckpoint } from '../safetensors/index.ts';
import { planFromJson, type Manifest as WasmManifest } from '../wasm/manifest.ts';
import { bindWeights } from '../weights/bind.ts';
import { openDevice } from './device.ts';
import { WebGpuProgram, type Storage } from './run.ts';
import type { WgslPass } from '../../targets/wgsl/render.ts';

export interface WgslManifest extends Omit<WasmManifest, 'binaries' | 'target'> {
  target: 'wgsl';
  program: KernelProgram;
  /** Per kernel: its shader file beside the manifest and its grid (loop extents the dispatch covers), and the passes
   * that follow it on the same bindings. */
  shaders: (ShaderFile & { kernel: string; next?: ShaderFile[] })[];
}

export interface ShaderFile {
  file: string;
  grid: Expr[];
  dispatch?: Expr[];
  when?: Expr;
}

const pass = (dir: string, { file, ...launch }: ShaderFile): WgslPass => ({ code: readFileSync(join(dir, file), 'utf8'), ...launch });

export interface CompiledModel {
  manifest: WgslManifest;
  adapter: string;
  /** Runs on token ids from an inputs.json file; returns the outputs by name. */
  run(inputsJson: string): Promise<Record<string, Storage>>;
  close(): void;
}

export async function loadCompiledModel(dir: string, weights: string, options: { adapter?: string } = {}): Promise<CompiledModel> {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as WgslManifest;
  if (manifest.format !== 'moec-compiled/1' || manifest.target !== 'wgsl') throw new Error(`${join(dir, 'manifest.json')}: not a moec model compiled for WebGPU`);
  const wgsl = { sizes: manifest.sizes, kernels: manifest.shaders.map((s) => ({ name: s.kernel, ...pass(dir, s), ...(s.next ? { next: s.next.map((n) => pass(dir, n)) } : {}) })) };
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
