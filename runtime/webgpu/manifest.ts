// The manifest of a model compiled for WebGPU (`moec compile --target wgsl`) and the WGSL program it describes, read
// through a function that gives a shader file's text: the file system in Node, fetch in a browser.
import type { Expr, KernelProgram } from '../../compiler/kernel/ir.ts';
import type { WgslPass, WgslProgram } from '../../targets/wgsl/render.ts';
import type { Manifest as WasmManifest } from '../wasm/manifest.ts';

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

/** Checks the manifest's format; `where` names it in the error. */
export function checkManifest(manifest: WgslManifest, where: string): WgslManifest {
  if (manifest.format !== 'moec-compiled/1' || manifest.target !== 'wgsl') throw new Error(`${where}: not a moec model compiled for WebGPU`);
  return manifest;
}

/** The shader files a manifest names, in order. */
export const shaderFiles = (m: WgslManifest): string[] => m.shaders.flatMap((s) => [s.file, ...(s.next ?? []).map((n) => n.file)]);

export function wgslFromManifest(m: WgslManifest, text: (file: string) => string): WgslProgram {
  const pass = ({ file, ...launch }: ShaderFile): WgslPass => ({ code: text(file), ...launch });
  return { sizes: m.sizes, kernels: m.shaders.map((s) => ({ name: s.kernel, ...pass(s), ...(s.next ? { next: s.next.map(pass) } : {}) })) };
}
