// The gpu.js runtime for a web page: a model compiled by `moec compile --target gpujs` fetched from a URL (manifest
// and kernels.js), run with gpu.js's GPU object (window.GPU from gpu.js's gpu-browser.min.js, loaded by the page).
import { checkManifest, gpujsFromManifest, type GpujsManifest } from './manifest.ts';
import { GpujsRunner, type GpuJs, type Storage } from './run.ts';

export type { GpujsManifest } from './manifest.ts';
export { GpujsRunner, type GpuJs } from './run.ts';

export interface BrowserGpujsModel {
  manifest: GpujsManifest;
  run(inputs: Record<string, Int32Array>, sizes: Record<string, number>): Record<string, Storage>;
  close(): void;
}

export async function loadGpujsFromUrl(base: string | URL, params: (name: string) => Float32Array, gpu?: GpuJs): Promise<BrowserGpujsModel> {
  const url = new URL('manifest.json', base);
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: ${r.status} ${r.statusText}`);
  const manifest = checkManifest((await r.json()) as GpujsManifest, String(url));
  const functions = (await import(/* @vite-ignore */ String(new URL(manifest.module, base)))) as Record<string, { toString(): string }>;
  const runner = new GpujsRunner(manifest.program, gpujsFromManifest(manifest, functions), gpu);
  return { manifest, run: (inputs, sizes) => runner.run({ params, inputs, sizes }), close: () => runner.destroy() };
}
