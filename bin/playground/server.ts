// `npm run playground`: bundles the page (bin/playground/main.ts with the compiler, the WGSL and gpu.js targets and
// their browser runtimes) with esbuild and serves it on localhost. node:fs and node:path resolve to small shims
// (the examples as an in-memory map), so the compiler runs in the page unchanged.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const root = here('../../');

const shims: Plugin = {
  name: 'moec-playground',
  setup(b) {
    b.onResolve({ filter: /^(node:)?fs$/ }, () => ({ path: here('shims/fs.ts') }));
    b.onResolve({ filter: /^(node:)?path$/ }, () => ({ path: here('shims/path.ts') }));
    b.onResolve({ filter: /^moec:examples$/ }, () => ({ path: 'examples', namespace: 'moec' }));
    b.onLoad({ filter: /.*/, namespace: 'moec' }, () => {
      const dir = `${root}examples`;
      const examples = Object.fromEntries(readdirSync(dir).filter((f) => f.endsWith('.moe')).map((f) => [f, readFileSync(`${dir}/${f}`, 'utf8')]));
      return { contents: `export default ${JSON.stringify(examples)};`, loader: 'js' };
    });
  },
};

/** The page's script: everything bundled for the browser (the build fails on any other Node built-in). */
export async function bundlePlayground(): Promise<string> {
  const r = await build({
    entryPoints: [here('main.ts')], bundle: true, platform: 'browser', format: 'esm', write: false, logLevel: 'silent',
    // runtime/webgpu/device.ts imports Dawn only where there is no navigator.gpu (Node).
    external: ['webgpu'], plugins: [shims], target: 'es2022',
    banner: { js: "globalThis.process ??= { env: {}, cwd: () => '/', platform: 'browser' };" },
  });
  return r.outputFiles[0]!.text;
}

/** gpu.js's browser build: installed, or taken from its tarball by bin/playground/fetch-gpujs.sh. */
export function gpujsBrowserBuild(): string | undefined {
  return [`${root}node_modules/gpu.js/dist/gpu-browser.min.js`, `${root}node_modules/.cache/moec/gpu.js-2.16.0/gpu-browser.min.js`].find(existsSync);
}

export async function startPlayground(port = 8080, host = '127.0.0.1'): Promise<{ url: string; server: Server }> {
  const script = await bundlePlayground();
  const html = readFileSync(here('index.html'), 'utf8');
  const gpujs = gpujsBrowserBuild();
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const send = (type: string, body: string | Buffer) => {
      res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (path === '/' || path === '/index.html') return send('text/html; charset=utf-8', html);
    if (path === '/main.js') return send('text/javascript; charset=utf-8', script);
    // Without gpu.js the page falls back to JavaScript on the CPU (window.GPU stays undefined).
    if (path === '/gpu-browser.min.js') return send('text/javascript; charset=utf-8', gpujs ? readFileSync(gpujs) : '');
    res.writeHead(404).end();
  });
  await new Promise<void>((done) => server.listen(port, host, done));
  return { url: `http://${host}:${(server.address() as AddressInfo).port}/`, server };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const i = process.argv.indexOf('--port');
  const port = i >= 0 ? Number(process.argv[i + 1]) : 8080;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`error: --port must be a port number, got '${process.argv[i + 1]}'\n`);
    process.exit(1);
  }
  const { url } = await startPlayground(port);
  process.stdout.write(`moec playground at ${url}${gpujsBrowserBuild() ? '' : ' (gpu.js not found: run bin/playground/fetch-gpujs.sh for the WebGL fallback)'}\n`);
}
