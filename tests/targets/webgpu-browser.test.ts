// The WebGPU runtime as a web page would use it: runtime/webgpu/browser.ts bundled by esbuild for the browser
// platform (the build fails on any Node built-in), the compiled mixtral fixture fetched over HTTP, and the device
// taken from navigator.gpu — here Dawn's GPU object installed as navigator.gpu, with the WebGPU globals a browser
// defines, standing in for the browser's implementation (a real headless Chromium comes with the playground).
import { createServer, type Server } from 'node:http';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { lowerModel } from '../../compiler/lower/model.ts';
import { runPipeline } from '../../compiler/passes/pipeline.ts';
import { readInputs } from '../../runtime/inputs.ts';
import { prepareRun } from '../../runtime/run-model.ts';
import { openCheckpoint, openSafetensors } from '../../runtime/safetensors/index.ts';
import { relativeL2 } from '../helpers/compare.ts';
import { fixtureDirs, importedSpec } from '../helpers/fixtures.ts';
import { scratch } from '../helpers/spec.ts';

const fixture = fixtureDirs().find((d) => d.includes('mixtral'))!;
const out = join(scratch, 'browser');
let server: Server;
let base: string;
const requests: string[] = [];
let requested = 0;

beforeAll(async () => {
  mkdirSync(out, { recursive: true });
  const spec = join(out, 'mixtral.moe');
  const bin = new URL('../../bin/moec.js', import.meta.url).pathname;
  expect(spawnSync(process.execPath, [bin, 'import', 'hf', fixture, '-o', spec]).status).toBe(0);
  const compiled = spawnSync(process.execPath, [bin, 'compile', spec, '--target', 'wgsl', '-o', join(out, 'model')], { encoding: 'utf8' });
  expect(compiled.status, compiled.stderr).toBe(0);
  server = createServer((req, res) => {
    requests.push(req.url!);
    try {
      res.end(readFileSync(join(out, 'model', decodeURIComponent(req.url!))));
    } catch {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  // What a browser provides: navigator.gpu and the WebGPU constants.
  const { create, globals } = (await import('webgpu')) as unknown as { create: (flags: string[]) => GPU; globals: Record<string, unknown> };
  Object.assign(globalThis, globals);
  const gpu = create([]);
  const counted = { requestAdapter: (o?: GPURequestAdapterOptions) => { requested++; return gpu.requestAdapter(o); } };
  Object.defineProperty(globalThis, 'navigator', { value: { gpu: counted }, configurable: true });
});
afterAll(() => {
  server?.close();
  Reflect.deleteProperty(globalThis, 'navigator');
});

it('bundles for the browser, fetches the compiled model, runs it on navigator.gpu: logits within 1e-4 of transformers', async () => {
  const bundle = await build({ entryPoints: [new URL('../../runtime/webgpu/browser.ts', import.meta.url).pathname], bundle: true, platform: 'browser', format: 'esm', external: ['webgpu'], write: false, logLevel: 'silent' });
  const file = join(out, 'moec-webgpu.mjs');
  writeFileSync(file, bundle.outputFiles[0]!.text);
  const runtime = (await import(pathToFileURL(file).href)) as typeof import('../../runtime/webgpu/browser.ts');

  const spec = importedSpec(fixture);
  const graph = runPipeline(lowerModel(spec));
  const ck = openCheckpoint(fixture);
  const { weights, ids, sizes } = prepareRun(graph, spec.checkpoint?.tensors ?? [], ck, fixture, readInputs(join(fixture, 'inputs.json'), graph.inputs.map((i) => i.name), spec.vocab));
  ck.close();

  const model = await runtime.loadCompiledFromUrl(base, (name) => weights.get(name)!.data);
  try {
    expect(requested).toBeGreaterThan(0);
    expect(requests).toContain('/manifest.json');
    expect(requests.filter((r) => r.endsWith('.wgsl')).length).toBe(model.manifest.shaders.reduce((n, s) => n + 1 + (s.next?.length ?? 0), 0));
    const got = await model.run(ids, sizes);
    const want = openSafetensors(join(fixture, 'reference.safetensors')).readF32('logits');
    expect(relativeL2(got.logits!, want)).toBeLessThan(1e-4);
  } finally {
    model.close();
  }
});

it('a missing model is one clear error naming the URL', async () => {
  const runtime = (await import(pathToFileURL(join(out, 'moec-webgpu.mjs')).href)) as typeof import('../../runtime/webgpu/browser.ts');
  await expect(runtime.loadCompiledFromUrl(`${base}nowhere/`, () => new Float32Array(0))).rejects.toThrow(`${base}nowhere/manifest.json: 404 Not Found`);
});
