// Progress bars: the line drawn for a given state (a pure function), when a bar is shown at all (a terminal, not
// --quiet, not --json), and a command run with stderr piped, as in CI, printing only its usual lines.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatBytes, progressBar, progressLine } from '../bin/progress.ts';
import { scratch, writeSpec } from './helpers/spec.ts';

const bin = new URL('../bin/moec.js', import.meta.url).pathname;
const fixture = new URL('./fixtures/hf/qwen2_moe/', import.meta.url).pathname;
const moec = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

describe('progressLine', () => {
  it('draws label, bar, percent and counts', () => {
    expect(progressLine(0, 4, 'wasm simd: rendering kernels', 80)).toBe('wasm simd: rendering kernels [....................]   0% 0/4');
    expect(progressLine(1, 4, 'wasm simd: rendering kernels', 80)).toBe('wasm simd: rendering kernels [#####...............]  25% 1/4');
    expect(progressLine(51, 52, 'k', 80)).toBe('k [####################]  98% 51/52');
    expect(progressLine(3, 3, 'k', 80)).toBe('k [####################] 100% 3/3');
    expect(progressLine(0, 0, 'k', 80)).toBe('k [####################] 100% 0/0');
  });

  it('counts bytes in binary units', () => {
    expect(progressLine(1536, 4 * 2 ** 20, 'reading model.safetensors', 80, 'bytes')).toBe('reading model.safetensors [....................]   0% 1.5 KiB/4.0 MiB');
    expect([formatBytes(0), formatBytes(1023), formatBytes(1024), formatBytes(3.5 * 2 ** 30), formatBytes(2 ** 50)]).toEqual(['0 B', '1023 B', '1.0 KiB', '3.5 GiB', '1024.0 TiB']);
  });

  it('fits the terminal: the label shortened, never the last column', () => {
    const line = progressLine(1, 2, 'reading 2/3 model-00002-of-00003.safetensors', 60, 'bytes');
    expect(line).toBe('reading 2/3 model-0000… [##########..........]  50% 1 B/2 B');
    expect(line.length).toBe(59);
    expect(progressLine(1, 2, 'a long label', 20)).toBe('50% 1/2');
  });
});

describe('progressBar', () => {
  const stream = (isTTY: boolean) => {
    const writes: string[] = [];
    return { writes, isTTY, columns: 60, write: (t: string) => writes.push(t) };
  };

  it('redraws one line in place and clears it when the step ends', () => {
    const s = stream(true);
    let t = 0;
    const bar = progressBar({}, s, () => t)!;
    bar.onProgress(0, 2, 'k');
    t = 10;
    bar.onProgress(1, 2, 'k'); // within the redraw interval: skipped
    bar.onProgress(1, 2, 'other'); // a new label: drawn
    t = 200;
    bar.onProgress(2, 2, 'other');
    bar.end(); // nothing left to clear
    expect(s.writes).toEqual(['\rk [....................]   0% 0/2\x1b[K', '\rother [##########..........]  50% 1/2\x1b[K', '\r\x1b[K']);
  });

  it('is off when stderr is not a terminal, with --quiet and with --json', () => {
    expect(progressBar({}, stream(false))).toBeUndefined();
    expect(progressBar({ quiet: true }, stream(true))).toBeUndefined();
    expect(progressBar({ json: true }, stream(true))).toBeUndefined();
  });
});

describe('piped stderr (CI logs) gets no progress', () => {
  it('moec compile --target wasm: only the usual line', () => {
    const spec = writeSpec('progress-tiny.moe', 'rmsnorm norm { eps: 1e-5 }\nmodel tiny {\n  vocab: 32\n  d_model: 16\n  decoder: stack { layers: 1, block: block { norm: norm, attention: attention { heads: 2 }, ffn: moe { experts: 2, top_k: 1, expert: ffn { hidden: 8, act: swiglu } } }, final_norm: norm }\n}\n');
    const out = join(scratch, 'progress-compiled');
    const r = moec('compile', spec, '--target', 'wasm', '-o', out);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/^wrote \S+model\.wasm \(\d+ bytes\), model-relaxed\.wasm \(FMA\), manifest\.json, model\.ts\n$/);
  });

  it('moec run (weights read through the progress source): only the usual line', () => {
    const spec = join(scratch, 'progress-qwen.moe');
    expect(moec('import', 'hf', fixture, '-o', spec).status).toBe(0);
    const out = join(scratch, 'progress-out.safetensors');
    const r = moec('run', spec, '--weights', fixture, '--input', join(fixture, 'inputs.json'), '--out', out);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe(`wrote ${out}\n`);
    expect(r.stdout).toBe('');
  });
});
