// The playground page: edit a spec with highlighting and live diagnostics, see its parameter and FLOP counts and its
// graph IR drawn by Graphviz (compiled to wasm), and run a tiny configuration of it with seeded random weights on
// navigator.gpu (the WGSL target), or through gpu.js on WebGL where WebGPU is missing (the gpujs target), or as
// JavaScript where neither is. The compiler runs in the page: node:fs is a map of the examples (shims/fs.ts).
import { Graphviz } from '@hpcc-js/wasm-graphviz';
import examples from 'moec:examples';
import { check } from '../../compiler/api.ts';
import { graphToDot } from '../../compiler/ir/dot.ts';
import type { Graph } from '../../compiler/ir/types.ts';
import { planMemory } from '../../compiler/kernel/memory-plan.ts';
import { scheduleGraph } from '../../compiler/kernel/schedule.ts';
import { lowerModel } from '../../compiler/lower/model.ts';
import { runPipeline } from '../../compiler/passes/pipeline.ts';
import { computeStats } from '../../compiler/stats.ts';
import type { Diagnostic } from '../../dsl/diagnostics.ts';
import { renderProgram as renderGpujs } from '../../targets/gpujs/render.ts';
import { renderProgram as renderWgsl } from '../../targets/wgsl/render.ts';
import { GpujsRunner, type GpuJs } from '../../runtime/gpujs/run.ts';
import { openDevice } from '../../runtime/webgpu/device.ts';
import { WebGpuProgram } from '../../runtime/webgpu/run.ts';
import { randomWeights } from '../../runtime/weights/random.ts';
import { maxRunParams, runInputs, runSizes, tinySet, weightSeed, weightStd } from './config.ts';
import { highlightLine } from './highlight.ts';
import { files } from './shims/fs.ts';

for (const [name, text] of Object.entries(examples)) files.set(`/examples/${name}`, text);

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const editor = $<HTMLTextAreaElement>('editor');
const highlighted = $<HTMLPreElement>('highlighted');
const picker = $<HTMLSelectElement>('examples');
const diagnosticsEl = $('diagnostics');
const statsEl = $('stats');
const irEl = $('ir');
const runButton = $<HTMLButtonElement>('run');
const runEl = $('run-output');
const graphviz = Graphviz.load();
let file = 'examples/switch-base-8.moe';
let errorLines = new Set<number>();

/** Params the spec itself declares (`param NAME = …`), which Run sets small. */
function declaredParams(c: ReturnType<typeof check>): string[] {
  return c.program.modules.flatMap((m) => m.statements).flatMap((s) => (s.kind === 'let' && s.overridable ? [s.name.name] : []));
}

function paint(): void {
  highlighted.innerHTML = `${editor.value.split('\n').map((l, i) => `<span class="line${errorLines.has(i + 1) ? ' error-line' : ''}">${highlightLine(l)}</span>`).join('\n')}\n`;
  highlighted.scrollTop = editor.scrollTop;
  highlighted.scrollLeft = editor.scrollLeft;
}

const where = (d: Diagnostic) => (d.span ? `${d.span.file}:${d.span.line}:${d.span.col}` : file);
const fmt = (n: number) => (n >= 1e9 ? `${(n / 1e9).toFixed(2)}B` : n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}K` : String(n));

function showDiagnostics(list: readonly Diagnostic[]): void {
  errorLines = new Set(list.filter((d) => d.span?.file === file).map((d) => d.span!.line));
  diagnosticsEl.innerHTML = '';
  diagnosticsEl.className = list.length ? 'has-errors' : 'ok';
  if (!list.length) diagnosticsEl.textContent = 'no errors';
  for (const d of list) {
    const li = document.createElement('li');
    li.className = `diagnostic ${d.severity}`;
    li.textContent = `${where(d)}: ${d.severity}: ${d.message}${d.hint ? ` (${d.hint})` : ''}`;
    diagnosticsEl.append(li);
  }
  paint();
}

/** The spec in the editor through the front end: diagnostics, and the graph after the pipeline when it checks. */
function compileEditor(set?: Record<string, string>): { graph?: Graph; diagnostics: readonly Diagnostic[]; params: string[]; vocab?: number } {
  const c = check(file, set ? { set } : {}, editor.value);
  if (!c.model) return { diagnostics: c.diagnostics.length ? c.diagnostics : [{ severity: 'error', message: 'no model in the file' }], params: declaredParams(c) };
  try {
    return { graph: runPipeline(lowerModel(c.model)), diagnostics: c.diagnostics, params: declaredParams(c), vocab: c.model.vocab };
  } catch (e) {
    const err = e as { diagnostics?: Diagnostic[]; message: string };
    return { diagnostics: err.diagnostics ?? [{ severity: 'error', message: err.message }], params: declaredParams(c) };
  }
}

let generation = 0;
async function update(): Promise<void> {
  const mine = ++generation;
  const t0 = performance.now();
  const c = compileEditor();
  showDiagnostics(c.diagnostics);
  if (!c.graph) {
    statsEl.dataset.state = 'stale';
    return;
  }
  const s = computeStats(c.graph, 2048);
  statsEl.dataset.state = 'ok';
  statsEl.innerHTML = `<table>
    <tr><th>model</th><td>${s.model}</td></tr>
    <tr><th>total parameters</th><td id="total-params" data-value="${s.total_params}">${s.total_params.toLocaleString('en-US')} (${fmt(s.total_params)})</td></tr>
    <tr><th>active parameters per token</th><td id="active-params" data-value="${s.active_params}">${s.active_params.toLocaleString('en-US')} (${fmt(s.active_params)})</td></tr>
    <tr><th>forward FLOPs per token (seq 2048)</th><td id="flops" data-value="${s.flops_per_token}">${s.flops_per_token.toLocaleString('en-US')} (${fmt(s.flops_per_token)})</td></tr>
    <tr><th>front end</th><td>${(performance.now() - t0).toFixed(0)} ms</td></tr></table>`;
  // The picture: of the tiny configuration when the spec declares params (a full-size stack is hundreds of nodes).
  const small = c.params.length ? compileEditor(tinySet(c.params)) : c;
  const g = small.graph ?? c.graph;
  if (g.nodes.length > 800) {
    irEl.textContent = `the graph has ${g.nodes.length} nodes: too many to draw here; declare params (e.g. n_layers) to draw a small configuration`;
    return;
  }
  const svg = (await graphviz).dot(graphToDot(g));
  if (mine !== generation) return;
  irEl.innerHTML = svg;
  irEl.dataset.caption = small !== c && small.graph ? `drawn with ${Object.entries(tinySet(c.params)).map(([k, v]) => `${k}=${v}`).join(' ')}` : '';
}

let timer: ReturnType<typeof setTimeout> | undefined;
function schedule(): void {
  paint();
  clearTimeout(timer);
  timer = setTimeout(() => void update().catch((e) => { diagnosticsEl.textContent = `internal error: ${(e as Error).message}`; }), 250);
}

/** Which backend runs: WebGPU when the browser has an adapter, else gpu.js on WebGL, else JavaScript. */
async function pickBackend(): Promise<'webgpu' | 'gpujs' | 'js'> {
  const forced = new URLSearchParams(location.search).get('backend');
  if (forced === 'webgpu' || forced === 'gpujs' || forced === 'js') return forced;
  const gpu = (navigator as { gpu?: GPU }).gpu;
  if (gpu && (await gpu.requestAdapter().catch(() => null))) return 'webgpu';
  return gpujsClass() ? 'gpujs' : 'js';
}

/** gpu.js's GPU class from gpu-browser.min.js: the global itself, or its `GPU` export (gpu.js 2.x's UMD build). */
function gpujsClass(): (new (o: object) => GpuJs & { mode?: string }) | undefined {
  const g = (window as { GPU?: unknown }).GPU as { GPU?: unknown } | undefined;
  const c = typeof g === 'function' ? g : g?.GPU;
  return typeof c === 'function' ? (c as new (o: object) => GpuJs & { mode?: string }) : undefined;
}

async function run(): Promise<void> {
  runEl.dataset.state = 'running';
  runEl.textContent = 'compiling…';
  const status = (s: string) => { runEl.textContent = s; };
  const first = compileEditor();
  const set = tinySet(first.params);
  const c = Object.keys(set).length ? compileEditor(set) : first;
  if (!c.graph) throw new Error(`the spec has errors: ${c.diagnostics.map((d) => d.message).join('; ')}`);
  const graph = c.graph;
  const total = computeStats(graph).total_params;
  if (total > maxRunParams) throw new Error(`${fmt(total)} parameters is too many for a browser tab; declare params (d_model, n_layers, …) and Run sets them small`);
  const weights = randomWeights(graph.params, weightSeed, weightStd);
  const params = (n: string) => weights.get(n)!.data;
  const inputs = runInputs(c.vocab ?? 64);
  const program = scheduleGraph(graph);
  const backend = await pickBackend();
  let logits: Float32Array;
  let device = '';
  const t0 = performance.now();
  status(`running on ${backend}…`);
  if (backend === 'webgpu') {
    const gpu = await openDevice();
    status(`running on ${gpu.adapter}…`);
    device = gpu.adapter;
    try {
      // The loop nests, not the tiled matmuls: at a tiny configuration they are as fast, and a software adapter
      // (SwiftShader in headless Chromium) compiles them in 5 s instead of 38.
      const p = await WebGpuProgram.create(gpu, program, planMemory(program), renderWgsl(program, { features: gpu.shaderFeatures, tiled: false }));
      const out = await p.run({ params, inputs, sizes: runSizes });
      p.destroy();
      logits = out.logits as Float32Array;
    } finally {
      gpu.device.destroy();
    }
  } else {
    const GPU = gpujsClass();
    const gpu = backend === 'gpujs' && GPU ? new GPU({ mode: 'webgl2' }) : undefined;
    device = gpu ? `gpu.js ${gpu.mode ?? ''}`.trim() : 'JavaScript on the CPU';
    const runner = new GpujsRunner(program, renderGpujs(program), gpu);
    const out = runner.run({ params, inputs, sizes: runSizes });
    const placed = Object.values(runner.placement);
    device += ` (${placed.filter((p) => p === 'gpu').length} of ${placed.length} kernels on the GPU)`;
    runner.destroy();
    gpu?.destroy?.();
    logits = Float32Array.from(out.logits!);
  }
  const ms = performance.now() - t0;
  runEl.dataset.state = 'done';
  runEl.dataset.backend = backend;
  runEl.dataset.logits = JSON.stringify(Array.from(logits.subarray(0, 16)));
  runEl.dataset.set = JSON.stringify(set);
  const shown = Array.from(logits.subarray(0, 8), (v) => v.toFixed(5)).join(', ');
  runEl.innerHTML = '';
  const lines = [
    `backend: ${backend} — ${device}`,
    `set: ${Object.entries(set).map(([k, v]) => `${k}=${v}`).join(' ') || '(the spec as written)'}; batch ${runSizes.batch}, seq ${runSizes.seq}; random weights (seed ${weightSeed})`,
    `logits[0, 0, :8] = [${shown}, …] (${logits.length} values)`,
    `time: ${ms.toFixed(1)} ms`,
  ];
  for (const l of lines) runEl.append(Object.assign(document.createElement('div'), { textContent: l }));
}

function load(name: string): void {
  file = `examples/${name}`;
  editor.value = examples[name]!;
  schedule();
}

for (const name of Object.keys(examples).sort()) picker.append(new Option(name, name));
picker.value = 'switch-base-8.moe';
picker.addEventListener('change', () => load(picker.value));
editor.addEventListener('input', schedule);
editor.addEventListener('scroll', () => { highlighted.scrollTop = editor.scrollTop; highlighted.scrollLeft = editor.scrollLeft; });
runButton.addEventListener('click', () => {
  runButton.disabled = true;
  run().catch((e) => {
    runEl.dataset.state = 'error';
    runEl.textContent = `error: ${(e as Error).message}`;
  }).finally(() => { runButton.disabled = false; });
});
load(picker.value);
