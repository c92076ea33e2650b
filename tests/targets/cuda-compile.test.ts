// Every example and every Hugging Face fixture's spec compiled to CUDA C and through nvcc (CUDA 13) for sm_80 and
// sm_90a with every warning an error (the fixtures and the examples with ops of their own; every example with
// MOEC_NVCC_ALL=1), in fp32 and in bf16 (tensor-core matmuls: mma.sync, and the sm_90a rendering's
// wgmma, compiled for sm_90a only), so a codegen error fails here without a GPU; and `moec compile --target cuda`
// (--precision and --arch too).
// Models share most of their functions (the same rms_norm, the same matmul epilogue at other shapes), so each
// distinct function is compiled once, in a few sources holding the functions of all models, two nvcc at a time
// (a third of the time of a compile per model); a failure is reported against every model that has the function,
// at its line in that model's own source.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkOrThrow } from '../../compiler/api.ts';
import { lowerModel } from '../../compiler/lower/model.ts';
import { runPipeline } from '../../compiler/passes/pipeline.ts';
import { scheduleGraph } from '../../compiler/kernel/schedule.ts';
import type { ModelSpec } from '../../compiler/spec/types.ts';
import { wgmmaProducts } from '../../targets/cuda/wgmma.ts';
import { cudaSource, renderProgram, type CudaArch, type CudaProgram, type Precision } from '../../targets/cuda/render.ts';
import type { CudaManifest } from '../../runtime/cuda/manifest.ts';
import { fixtureDirs, importedSpec } from '../helpers/fixtures.ts';
import { hopperFlags, nvcc, nvccRelease, type NvccResult } from '../helpers/nvcc.ts';
import { pool } from '../helpers/pool.ts';
import { scratch } from '../helpers/spec.ts';
import { evalExtent } from '../../codegen/grid.ts';

const examples = new URL('../../examples/', import.meta.url).pathname;
const bin = new URL('../../bin/moec.js', import.meta.url).pathname;
const run = pool(2);

interface Model {
  name: string;
  cuda: CudaProgram;
}

const compile = (name: string, spec: ModelSpec, precision: Precision, arch: CudaArch = 'sm_80'): Model => {
  const program = scheduleGraph(runPipeline(lowerModel(spec)));
  return { name: precision === 'f32' ? name : `${name} (${precision}, ${arch})`, cuda: renderProgram(program, { precision, arch }) };
};



/** A function of one or more models, compiled once under the name `id`. */
interface Shared {
  id: string;
  code: string;
  users: { model: Model; entry: string }[];
  unit?: Unit;
  /** Its first line in the unit's source. */
  line?: number;
}

interface Unit {
  file: string;
  functions: Shared[];
  result: Promise<NvccResult>;
}

/** The distinct functions of all models: the same code under another name is the same function. */
function distinctFunctions(models: Model[]): Map<string, Shared[]> {
  const byKey = new Map<string, Shared>();
  for (const model of models) {
    for (const f of model.cuda.functions) {
      // The size struct is part of what a function compiles against.
      const key = `${model.cuda.sizes.length}\n${f.code.replace(` ${f.entry}(`, ' @(')}`;
      const shared = byKey.get(key) ?? { id: `f${byKey.size}`, code: f.code.replace(` ${f.entry}(`, ` f${byKey.size}(`), users: [] };
      shared.users.push({ model, entry: f.entry });
      byKey.set(key, shared);
    }
  }
  // Sources group functions of the same size struct, and those only sm_90a compiles apart.
  const bySizes = new Map<string, Shared[]>();
  for (const [key, f] of byKey) {
    const group = `${key.slice(0, key.indexOf('\n'))} ${wgmmaProducts(f.code).length > 0}`;
    bySizes.set(group, [...(bySizes.get(group) ?? []), f]);
  }
  return bySizes;
}

/** Splits the functions into about `count` sources (round robin, so each gets some of every kind) and starts them. */
function units(models: Model[], count: number): Unit[] {
  const groups = distinctFunctions(models);
  const total = [...groups.values()].reduce((s, g) => s + g.length, 0);
  const dir = join(scratch, 'nvcc');
  mkdirSync(dir, { recursive: true });
  let n = 0;
  return [...groups.values()].flatMap((group) => {
    const parts = Math.max(1, Math.round((count * group.length) / total));
    return Array.from({ length: parts }, (_, p) => group.filter((_, i) => i % parts === p)).map((functions): Unit => {
      const sizes = functions[0]!.users[0]!.model.cuda.sizes;
      // The bf16 helpers (PTX included) above the functions where one uses them; f32 functions compile the same under them.
      const precision = functions.some((f) => /\bmoec_(f16|to_f16|mma_f16|pack_f16)\(|moec_wgmma_f16_/.test(f.code)) ? 'f16' : functions.some((f) => /\bmoec_(bf16|to_bf16|smem)\(/.test(f.code)) ? 'bf16' : 'f32';
      const products = wgmmaProducts(functions.map((f) => f.code).join('\n'));
      const source = cudaSource('the functions of several models', functions.length, functions.map((f) => ({ comment: `// ${f.users.map((u) => `${u.model.name}:${u.entry}`).join(', ')}`, code: f.code })), sizes, precision, products);
      const file = join(dir, `unit${n++}.cu`);
      writeFileSync(file, source);
      const unit: Unit = { file, functions, result: run(() => nvcc(file, `${file}.fatbin`, products.length ? hopperFlags : undefined)) };
      for (const f of functions) {
        f.unit = unit;
        f.line = lineOf(source, ` ${f.id}(`);
      }
      return unit;
    });
  });
}

/** The 1-based line of the first occurrence of `text`. */
const lineOf = (source: string, text: string) => source.slice(0, source.indexOf(text)).split('\n').length;

/**
 * nvcc's diagnostics about one function, as the model's own source would have them: `unit3.cu(120): error …` (and
 * the lines under it) when line 120 is in the function, ptxas lines naming it, with unit lines moved to the model's.
 */
function diagnosticsOf(f: Shared, output: string, model: Model, entry: string): string[] {
  const unit = f.unit!;
  const starts = unit.functions.map((g) => g.line!).sort((a, b) => a - b);
  const owner = (line: number) => starts.filter((s) => s <= line).pop();
  const modelLine = lineOf(model.cuda.source, ` ${entry}(`);
  const found: string[] = [];
  let mine = false;
  for (const text of output.split('\n')) {
    const at = /^(.*)\((\d+)\): (error|warning)/.exec(text);
    if (at) mine = owner(Number(at[2])) === f.line;
    else if (text.trim() === '') mine = false;
    const named = new RegExp(`\\b${f.id}\\b`).test(text);
    if (mine || named) {
      found.push(text
        .replace(/^(.*)\((\d+)\): /, (_, _file, line: string) => `${model.name}.cu(${Number(line) - f.line! + modelLine}): `)
        .replace(new RegExp(`\\b${f.id}\\b`, 'g'), entry));
    }
  }
  return found;
}

/** Why a model's functions failed to compile: their diagnostics, or all of a failed unit's output if none is theirs. */
async function failures(model: Model, shared: Shared[]): Promise<string[]> {
  const out: string[] = [];
  for (const f of shared) {
    const use = f.users.find((u) => u.model === model);
    if (!use) continue;
    const r = await f.unit!.result;
    if (r.ok) continue;
    const unitBlamesSomeone = f.unit!.functions.some((g) => diagnosticsOf(g, r.output, g.users[0]!.model, g.users[0]!.entry).length > 0);
    const mine = diagnosticsOf(f, r.output, model, use.entry);
    if (mine.length) out.push(`${use.entry}:\n${mine.join('\n')}`);
    else if (!unitBlamesSomeone) out.push(`${use.entry} (in ${f.unit!.file}, which failed):\n${r.output}`);
  }
  return [...new Set(out)];
}

if (!nvccRelease) {
  const reason = 'nvcc is not on PATH: the CUDA C of the examples is NOT compiled (install the CUDA toolkit to check it)';
  console.warn(`\n*** ${reason} ***\n`);
  // CI is where a codegen error must fail without a GPU: there, a missing nvcc is a failure, not a skip.
  if (process.env.CI) it('nvcc is on PATH in CI', () => expect.fail(reason));
  else it.skip(reason, () => {});
} else {
  const specs = [
    ...readdirSync(examples).filter((f) => f.endsWith('.moe')).map((f) => ({ name: basename(f, '.moe'), spec: checkOrThrow(join(examples, f)) })),
    ...fixtureDirs().map((d) => ({ name: `${basename(d)}-fixture`, spec: importedSpec(d) })),
  ];
  // The fixtures and the examples whose ops no fixture has (encoder-decoder with relative bias, MLA, Fourier mixing,
  // PEER, GShard's coins, SwitchHead, Soft MoE, Expert Choice, hashing), unless MOEC_NVCC_ALL=1 (`npm run test:nvcc`,
  // 600 distinct functions, ~8 minutes of nvcc on 2 cores) asks for every spec: the others add matmul shapes, not
  // code paths, and would double the default test run.
  const all = process.env.MOEC_NVCC_ALL === '1';
  const distinctExamples = new Set(['switch-base-8', 'deepseek-v3', 'fnet', 'peer', 'gshard', 'switchhead', 'soft-moe', 'expert-choice', 'hash-layers']);
  const chosen = specs.filter(({ name }) => all || name.endsWith('-fixture') || distinctExamples.has(name));
  const models = [
    ...([['f32', 'sm_80'], ['bf16', 'sm_80'], ['bf16', 'sm_90a']] as const).flatMap(([precision, arch]) => chosen.map(({ name, spec }) => compile(name, spec, precision, arch))),
    // f16 on the fixtures, rendered for sm_90a (wgmma on the tall tiles, mma.sync on the short ones: every f16
    // instruction): the same code as bf16 but for the type of the products and conversions.
    ...specs.filter(({ name }) => name.endsWith('-fixture')).map(({ name, spec }) => compile(name, spec, 'f16', 'sm_90a')),
  ];
  const started = units(models, 6);
  const shared = started.flatMap((u) => u.functions);

  afterAll(async () => {
    const results = await Promise.all(started.map((u) => u.result));
    const seconds = results.reduce((s, r) => s + r.seconds, 0);
    console.log(`nvcc ${nvccRelease}: ${shared.length} distinct functions of ${models.length} models in ${started.length} sources, ${seconds.toFixed(1)} s of compiling (${results.map((r) => r.seconds.toFixed(1)).join(', ')})`);
  });

  describe.each(models)('$name', (model) => {
    it('compiles with nvcc (for sm_80 and sm_90a, or sm_90a alone where rendered for it), warnings as errors', async () => {
      const failed = await failures(model, shared);
      expect(failed, `nvcc ${nvccRelease}:\n${failed.join('\n\n')}`).toEqual([]);
    }, 300_000);
  });

  it('moec compile --target cuda writes model.cu, manifest.json and model.ts; the model.cu compiles as written', async () => {
    const fixture = fixtureDirs().find((d) => d.endsWith('granitemoe'))!;
    const spec = join(scratch, 'granitemoe-cuda.moe');
    const moec = (...a: string[]) => spawnSync(process.execPath, [bin, ...a], { encoding: 'utf8' });
    expect(moec('import', 'hf', fixture, '-o', spec).status).toBe(0);
    const out = join(new URL('../.out/', import.meta.url).pathname, `granitemoe-cuda-${process.pid}`);
    const r = moec('compile', spec, '--target', 'cuda', '-o', out, '--report', '--seq', '16');
    expect(r.stderr).toMatch(/^wrote .*model\.cu \(\d+ kernels in \d+ functions, sm_80\), manifest\.json, model\.ts\n$/);
    expect(r.stdout).toMatch(/^kernels\s+\d+ \(\d+ functions\)\ntemporaries\s+\d+ in \d+ planned buffers\n/);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as CudaManifest;
    expect(manifest).toMatchObject({ format: 'moec-compiled/1', target: 'cuda', source: 'model.cu', precision: 'f32' });
    expect(manifest.launches.map((l) => l.kernel)).toEqual(manifest.program.kernels.map((k) => k.name));
    const source = readFileSync(join(out, 'model.cu'), 'utf8');
    for (const l of manifest.launches) expect(source).toContain(`extern "C" __global__ void __launch_bounds__(${l.block[0]}) ${l.entry}(`);
    expect(manifest.launches.some((l) => l.ints?.length === 2)).toBe(true);
    expect(existsSync(join(out, 'model.ts'))).toBe(true);
    const mod = (await import(join(out, 'model.ts'))) as { load(weights: string): Promise<{ run(inputs: string): Promise<Record<string, Float32Array>>; close(): void }> };
    // Without an NVIDIA driver (CI, this machine) loading is one clear error; with one, the model runs.
    if (!existsSync('/dev/nvidia0')) await expect(mod.load(fixture)).rejects.toThrow('no CUDA driver (libcuda.so.1) on this machine: --target cuda runs on an NVIDIA GPU with its driver installed');
    else {
      const m = await mod.load(fixture);
      expect((await m.run(join(fixture, 'inputs.json'))).logits!.length).toBeGreaterThan(0);
      m.close();
    }
    const compiled = await run(() => nvcc(join(out, 'model.cu'), join(out, 'model.fatbin')));
    expect(compiled.ok, compiled.output).toBe(true);
  }, 300_000);

  it('moec compile --target cuda --precision bf16 --arch sm_90a: the bf16 weights and activations, both tile shapes of each matmul in the manifest (wgmma\'s tall ones); the model.cu compiles as written', async () => {
    const fixture = fixtureDirs().find((d) => d.endsWith('mixtral'))!;
    const spec = join(scratch, 'mixtral-cuda-bf16.moe');
    const moec = (...a: string[]) => spawnSync(process.execPath, [bin, ...a], { encoding: 'utf8' });
    expect(moec('import', 'hf', fixture, '-o', spec).status).toBe(0);
    const out = join(new URL('../.out/', import.meta.url).pathname, `mixtral-cuda-bf16-${process.pid}`);
    const r = moec('compile', spec, '--target', 'cuda', '--precision', 'bf16', '--arch', 'sm_90a', '-o', out);
    expect(r.stderr).toMatch(/^wrote .*model\.cu \(\d+ kernels in \d+ functions, bf16 weights, sm_90a\), manifest\.json, model\.ts\n$/);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as CudaManifest;
    expect(manifest).toMatchObject({ target: 'cuda', precision: 'bf16', arch: 'sm_90a' });
    const buffer = (name: string) => manifest.program.buffers.find((b) => b.name === name)!;
    const bf16 = manifest.bf16!.map((n) => buffer(n).source);
    expect(bf16).toContain('decoder.0.moe.experts.gate');
    expect(bf16).toContain('decoder.0.attn.q.weight');
    expect(bf16.filter((n) => n.includes('router'))).toEqual([]);
    // Activations only matmuls read: the dispatched rows and the gated product of each MoE layer, among others.
    const dispatched = manifest.program.kernels.find((k) => k.ops[0] === 'gated_grouped_linear')!.gemm!;
    expect(manifest.bf16).toContain(dispatched.x);
    expect(manifest.bf16).toContain(dispatched.out);
    expect(manifest.bf16!.filter((n) => buffer(n).kind === 'temp').length).toBeGreaterThan(2);
    // The tall tiles' 4 stages of (128 + 256) rows of 128 bytes, and 1 KiB, in dynamic shared memory.
    const tall = manifest.launches.filter((l) => l.shared && !l.entry.endsWith('_short'));
    expect(tall.length).toBeGreaterThan(0);
    for (const l of tall) expect(l.shared, l.entry).toBe(4 * 384 * 128 + 1024);
    // Every gemm kernel but the routers' has a tall and a short launch; exactly one runs at the fixture's sizes.
    const byKernel = new Map<string, CudaManifest['launches']>();
    for (const l of manifest.launches) byKernel.set(l.kernel, [...(byKernel.get(l.kernel) ?? []), l]);
    expect([...byKernel.keys()]).toEqual(manifest.program.kernels.map((k) => k.name));
    for (const k of manifest.program.kernels) {
      const launches = byKernel.get(k.name)!;
      const tensorCores = k.gemm && k.gemm.weights.every((w) => manifest.bf16!.includes(w));
      expect(launches.length, k.name).toBe(tensorCores ? 2 : 1);
      if (tensorCores) expect(launches.filter((l) => evalExtent(l.when!, { batch: 2, seq: 16 }) !== 0), k.name).toHaveLength(1);
    }
    const code = readFileSync(join(out, 'model.cu'), 'utf8');
    for (const l of manifest.launches) expect(code).toMatch(new RegExp(`extern "C" __global__ void __launch_bounds__\\(${l.block[0]}(, \\d)?\\) ${l.entry}\\(`));
    expect(code).toContain('wgmma.mma_async.sync.aligned.m64n256k16.f32.bf16.bf16');
    const compiled = await run(() => nvcc(join(out, 'model.cu'), join(out, 'model.fatbin'), hopperFlags));
    expect(compiled.ok, compiled.output).toBe(true);
  }, 300_000);
}

it('moec compile and moec run refuse a --precision that is not f32 or bf16, or bf16 off the CUDA target, in one line', () => {
  const fixture = fixtureDirs().find((d) => d.endsWith('mixtral'))!;
  const spec = join(scratch, 'mixtral-cuda-precision.moe');
  const moec = (...a: string[]) => spawnSync(process.execPath, [bin, ...a], { encoding: 'utf8' });
  expect(moec('import', 'hf', fixture, '-o', spec).status).toBe(0);
  const out = join(scratch, 'mixtral-cuda-precision');
  const refused = (r: ReturnType<typeof moec>, message: string) => {
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`error: ${message}\n`);
  };
  refused(moec('compile', spec, '--target', 'cuda', '--precision', 'fp8', '-o', out), "--precision must be f32, bf16 or f16, got 'fp8'");
  refused(moec('compile', spec, '--target', 'wgsl', '--precision', 'bf16', '-o', out), "--precision bf16 is the CUDA target's: use it with --target cuda");
  refused(moec('compile', spec, '--target', 'cuda', '--arch', 'sm_100', '-o', out), "--arch must be sm_80 or sm_90a, got 'sm_100'");
  expect(existsSync(out)).toBe(false);
  const run = (...a: string[]) => moec('run', spec, '--weights', fixture, '--input', join(fixture, 'inputs.json'), '--out', `${out}.safetensors`, ...a);
  refused(run('--target', 'cuda', '--precision', 'BF16'), "--precision must be f32, bf16 or f16, got 'BF16'");
  refused(run('--target', 'wasm', '--precision', 'bf16'), "--precision bf16 is the CUDA target's: use it with --target cuda");
  if (!existsSync('/dev/nvidia0')) refused(run('--target', 'cuda', '--precision', 'bf16'), 'no CUDA driver (libcuda.so.1) on this machine: --target cuda runs on an NVIDIA GPU with its driver installed');
  expect(existsSync(`${out}.safetensors`)).toBe(false);
});

it('moec run --target cuda on a machine without an NVIDIA driver: one error line, exit 1, nothing written', () => {
  if (existsSync('/dev/nvidia0')) return;
  const fixture = fixtureDirs().find((d) => d.endsWith('mixtral'))!;
  const spec = join(scratch, 'mixtral-cuda-run.moe');
  const moec = (...a: string[]) => spawnSync(process.execPath, [bin, ...a], { encoding: 'utf8' });
  expect(moec('import', 'hf', fixture, '-o', spec).status).toBe(0);
  const out = join(scratch, 'mixtral-cuda-run.safetensors');
  const r = moec('run', spec, '--weights', fixture, '--input', join(fixture, 'inputs.json'), '--out', out, '--target', 'cuda');
  expect(r.status).toBe(1);
  expect(r.stderr).toBe('error: no CUDA driver (libcuda.so.1) on this machine: --target cuda runs on an NVIDIA GPU with its driver installed\n');
  expect(existsSync(out)).toBe(false);
});
