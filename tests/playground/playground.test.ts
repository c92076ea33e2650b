// The playground in a real headless Chromium, driven over the DevTools protocol: the page bundled and served by
// bin/playground/server.ts; a spec typed with an error shows its diagnostic (file:line:col, the line marked); fixed,
// it shows the stats moec computes and the IR as an SVG; Run compiles a tiny configuration and runs it on whatever
// the browser offers (WebGPU, else gpu.js on WebGL — SwiftShader here — else JavaScript), and the logits match the
// reference executor's within 1e-3. Then the gpu.js path is forced (?backend=gpujs) and checked the same way. A
// screenshot goes to tests/.out/playground.png. Without Chromium it skips, except in CI, where that is a failure.
import { mkdirSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { check } from '../../compiler/api.ts';
import { lowerModel } from '../../compiler/lower/model.ts';
import { runPipeline } from '../../compiler/passes/pipeline.ts';
import { computeStats } from '../../compiler/stats.ts';
import { referenceExecutor } from '../../runtime/run-model.ts';
import { randomWeights } from '../../runtime/weights/random.ts';
import { runInputs, runSizes, tinySet, weightSeed, weightStd } from '../../bin/playground/config.ts';
import { gpujsBrowserBuild, startPlayground } from '../../bin/playground/server.ts';
import { findChromium, openPage, type Page } from '../helpers/chromium.ts';
import { writeSpec } from '../helpers/spec.ts';

const chromium = findChromium();
if (!chromium && process.env.CI) throw new Error('chromium is not installed: the playground test needs it in CI (bin/playground/install-chromium.sh installs it)');
if (!chromium) console.warn('skipping the playground browser test: chromium is not installed (run bin/playground/install-chromium.sh)');

const broken = `# A tiny mixture of experts for the playground test.
param d_model = 512
param experts = 8
param heads = 4

rmsnorm norm { eps: 1e-5 }

attention self_attention {
  heads: heads
  kv_heads: 3
  rope: rope { theta: 1e4 }
}

moe sparse_ffn {
  experts: experts
  top_k: 2
  expert: ffn { hidden: 64, act: swiglu }
  router: softmax { normalize: true }
}

model tiny_moe {
  vocab: 64
  d_model: d_model
  decoder: stack {
    layers: 2
    block: block { norm: norm, attention: self_attention, ffn: sparse_ffn }
    final_norm: norm
  }
}
`;
const fixed = broken.replace('kv_heads: 3', 'kv_heads: 2');

/** What the page computes, on the reference executor: stats of the spec as written, logits of its tiny configuration. */
function expected() {
  const path = writeSpec('playground.moe', fixed);
  const asWritten = check(path);
  const params = asWritten.program.modules.flatMap((m) => m.statements).flatMap((s) => (s.kind === 'let' && s.overridable ? [s.name.name] : []));
  const stats = computeStats(runPipeline(lowerModel(asWritten.model!)), 2048);
  const set = tinySet(params);
  const tiny = check(path, { set });
  const graph = runPipeline(lowerModel(tiny.model!));
  const logits = referenceExecutor(graph)(randomWeights(graph.params, weightSeed, weightStd), runInputs(tiny.model!.vocab), runSizes).logits as Float32Array;
  return { stats, set, logits: Array.from(logits.subarray(0, 16)) };
}

describe.skipIf(!chromium)('the playground in headless Chromium', () => {
  let server: Server;
  let url: string;
  let page: Page | undefined;
  const want = expected();
  beforeAll(async () => {
    ({ server, url } = await startPlayground(0));
  });
  afterAll(async () => {
    await page?.close();
    server?.close();
  });

  /** Types `text` into the editor as a user would (select all, insert), which fires its input event. */
  const type = (p: Page, text: string) => p.evaluate(`(() => { const e = document.getElementById('editor'); e.focus(); e.select(); })()`).then(() => p.send('Input.insertText', { text }));

  async function runAndCheck(p: Page): Promise<string> {
    await p.evaluate(`document.getElementById('run').click()`);
    const state = await p.waitFor<string>(`(() => { const s = document.getElementById('run-output').dataset.state; return s === 'done' || s === 'error' ? s : ''; })()`, 'the run to finish', 40_000);
    const text = await p.evaluate<string>(`document.getElementById('run-output').textContent`);
    expect(state, text).toBe('done');
    const backend = await p.evaluate<string>(`document.getElementById('run-output').dataset.backend`);
    const logits = JSON.parse(await p.evaluate<string>(`document.getElementById('run-output').dataset.logits`)) as number[];
    expect(JSON.parse(await p.evaluate<string>(`document.getElementById('run-output').dataset.set`))).toEqual(want.set);
    expect(logits).toHaveLength(16);
    logits.forEach((v, i) => expect(Math.abs(v - want.logits[i]!), `logit ${i} on ${backend}: ${v} vs ${want.logits[i]}`).toBeLessThan(1e-3));
    expect(text).toMatch(/time: [\d.]+ ms/);
    return backend;
  }

  it('diagnostics as you type, stats and the IR picture, Run on the GPU the browser offers: the reference logits', async () => {
    page = await openPage(chromium!, url, ['--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--enable-unsafe-webgpu']);
    await page.waitFor(`document.querySelector('#ir svg') && document.getElementById('total-params')`, 'the first example to be drawn', 30_000);

    await type(page, broken);
    const diagnostics = await page.waitFor<string>(`document.getElementById('diagnostics').className === 'has-errors' && document.getElementById('diagnostics').textContent`, 'the diagnostic');
    expect(diagnostics).toContain('examples/switch-base-8.moe:10:13: error: kv_heads (3) must divide heads (4)');
    expect(await page.evaluate<number>(`document.querySelectorAll('#highlighted .error-line').length`)).toBe(1);
    expect(await page.evaluate<string>(`document.querySelector('#highlighted .error-line').textContent`)).toBe('  kv_heads: 3');
    // Highlighting from the TextMate grammar: the component kinds and comments have their classes.
    expect(await page.evaluate<number>(`document.querySelectorAll('#highlighted .tm-comment').length`)).toBeGreaterThan(0);
    expect(await page.evaluate<number>(`document.querySelectorAll('#highlighted .tm-storage').length`)).toBeGreaterThan(0);

    await type(page, fixed);
    await page.waitFor(`document.getElementById('diagnostics').className === 'ok' && document.getElementById('stats').textContent.includes('tiny_moe')`, 'the fixed spec to check');
    const stat = (id: string) => page!.evaluate<string>(`document.getElementById('${id}').dataset.value`).then(Number);
    expect([await stat('total-params'), await stat('active-params'), await stat('flops')]).toEqual([want.stats.total_params, want.stats.active_params, want.stats.flops_per_token]);
    await page.waitFor(`document.querySelector('#ir svg') && document.querySelector('#ir').textContent.includes('moe')`, 'the IR picture of the fixed spec');

    const backend = await runAndCheck(page);
    expect(['webgpu', 'gpujs', 'js']).toContain(backend);
    if (!gpujsBrowserBuild()) expect(backend).not.toBe('gpujs');
    const shot = await page.send<{ data: string }>('Page.captureScreenshot', { format: 'png' });
    mkdirSync(new URL('../.out/', import.meta.url), { recursive: true });
    writeFileSync(new URL('../.out/playground.png', import.meta.url), Buffer.from(shot.data, 'base64'));
  });

  it.skipIf(!gpujsBrowserBuild())('the gpu.js path on WebGL (SwiftShader): the reference logits', async () => {
    await page!.send('Page.navigate', { url: `${url}?backend=gpujs` });
    await page!.waitFor(`location.search === '?backend=gpujs' && document.querySelector('#ir svg')`, 'the page to reload');
    expect(await page!.evaluate<string>(`typeof (window.GPU.GPU ?? window.GPU)`)).toBe('function');
    await type(page!, fixed);
    await page!.waitFor(`document.getElementById('diagnostics').className === 'ok' && document.getElementById('stats').textContent.includes('tiny_moe')`, 'the spec to check');
    expect(await runAndCheck(page!)).toBe('gpujs');
    const text = await page!.evaluate<string>(`document.getElementById('run-output').textContent`);
    expect(text).toMatch(/gpu\.js webgl2 \([1-9]\d* of \d+ kernels on the GPU\)/);
  });
});
