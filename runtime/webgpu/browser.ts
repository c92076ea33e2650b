// The WebGPU runtime for a web page: a model compiled by `moec compile --target wgsl` fetched from a URL (manifest
// and shaders), run on navigator.gpu. The page supplies the weights by moec parameter name (manifest.params) and
// token ids; nothing here needs Node (a test bundles this file for the browser platform and runs it).
import { planFromJson } from '../wasm/manifest.ts';
import { openDevice, type GpuDevice } from './device.ts';
import { checkManifest, shaderFiles, wgslFromManifest, type WgslManifest } from './manifest.ts';
import { WebGpuProgram, type Storage } from './run.ts';

export { AdapterError, openDevice } from './device.ts';
export type { WgslManifest } from './manifest.ts';

export interface BrowserModel {
  manifest: WgslManifest;
  adapter: string;
  /** One forward: token ids per input (e.g. input_ids [batch, seq]) and the sizes (batch, seq); outputs by name. */
  run(inputs: Record<string, Int32Array>, sizes: Record<string, number>): Promise<Record<string, Storage>>;
  close(): void;
}

async function fetchText(url: URL): Promise<string> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: ${r.status} ${r.statusText}`);
  return r.text();
}

/** Loads the compiled model at `base` (a folder URL ending in /) on an adapter (navigator.gpu in a browser). */
export async function loadCompiledFromUrl(base: string | URL, params: (name: string) => Float32Array, options: { adapter?: string; gpu?: GpuDevice } = {}): Promise<BrowserModel> {
  const manifestUrl = new URL('manifest.json', base);
  const manifest = checkManifest(JSON.parse(await fetchText(manifestUrl)) as WgslManifest, String(manifestUrl));
  const files = shaderFiles(manifest);
  const texts = new Map(await Promise.all(files.map(async (f) => [f, await fetchText(new URL(f, base))] as const)));
  const gpu = options.gpu ?? (await openDevice(options.adapter));
  const program = await WebGpuProgram.create(gpu, manifest.program, planFromJson(manifest.plan), wgslFromManifest(manifest, (f) => texts.get(f)!));
  await program.load(params);
  return {
    manifest,
    adapter: gpu.adapter,
    run: (inputs, sizes) => program.run({ params, inputs, sizes }),
    close() {
      program.destroy();
      if (!options.gpu) gpu.device.destroy();
    },
  };
}
