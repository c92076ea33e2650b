// --json on the commands that report figures: one JSON object on stdout in the shape docs/json.md documents, for a
// small example each (stats --json is in cli.test.ts).
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkOrThrow } from '../compiler/api.ts';
import { lowerModel } from '../compiler/lower/model.ts';
import { writeSafetensors } from '../runtime/safetensors/index.ts';
import { randomWeights } from '../runtime/weights/random.ts';
import { scratch, writeSpec } from './helpers/spec.ts';

const bin = new URL('../bin/moec.js', import.meta.url).pathname;
const fixture = new URL('./fixtures/hf/qwen2_moe/', import.meta.url).pathname;
const moec = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
const dir = join(scratch, 'cli-json');
mkdirSync(dir, { recursive: true });

const tiny = writeSpec('json-tiny.moe', `param kv = 4
rmsnorm norm { eps: 1e-5 }
model tiny {
  vocab: 64
  d_model: 32
  decoder: stack {
    layers: 2
    block: block { norm: norm, attention: attention { heads: 4, kv_heads: kv }, ffn: moe { experts: 4, top_k: 2, expert: ffn { hidden: 16, act: swiglu } } }
    final_norm: norm
  }
}
`);

describe('--json', () => {
  it('check: every file, its model or its diagnostics with file, line and column; exit 1 when one fails', () => {
    const bad = writeSpec('json-bad.moe', 'attention a { heads: 4, kv_heads: 3 }\nmodel m { vocab: 10, d_model: 64, decoder: stack { layers: 1, block: block { norm: rmsnorm {}, attention: a } } }\n');
    const good = moec('check', 'examples/mixtral-8x7b.moe', '--json');
    expect(good.status).toBe(0);
    expect(good.stderr).toBe('');
    expect(JSON.parse(good.stdout)).toEqual({
      ok: true,
      files: [{ file: 'examples/mixtral-8x7b.moe', ok: true, model: { name: 'mixtral_8x7b', decoder_layers: 32, encoder_layers: 0, moe_layers: 32 }, diagnostics: [] }],
    });
    const r = moec('check', bad, 'nope.moe', '--json');
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('');
    const j = JSON.parse(r.stdout);
    expect(j).toEqual({
      ok: false,
      files: [
        { file: bad, ok: false, model: null, diagnostics: [{ severity: 'error', file: j.files[0].diagnostics[0].file, line: 1, col: 35, message: 'kv_heads (3) must divide heads (4)', hint: 'each key/value head serves heads / kv_heads query heads' }] },
        { file: 'nope.moe', ok: false, model: null, diagnostics: [{ severity: 'error', file: null, line: null, col: null, message: 'cannot read nope.moe: no such file', hint: null }] },
      ],
    });
    expect(j.files[0].diagnostics[0].file).toMatch(/json-bad\.moe$/);
  });

  it('compile: the report and the files written, the same keys for every target', () => {
    const out = join(dir, 'compiled-wgsl');
    const r = moec('compile', tiny, '--target', 'wgsl', '-o', out, '--json', '--seq', '16');
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/^wrote \d+ shaders in .*, manifest\.json, model\.ts\n$/);
    const j = JSON.parse(r.stdout);
    expect(Object.keys(j)).toEqual(['model', 'target', 'out', 'files', 'kernels', 'functions', 'temporaries', 'planned_buffers', 'seq', 'activation_bytes', 'parameters', 'compile_ms']);
    expect(j).toMatchObject({ model: 'tiny', target: 'wgsl', out, functions: null, seq: 16 });
    expect(j.files.slice(-2).map((f: { name: string }) => f.name)).toEqual(['manifest.json', 'model.ts']);
    for (const f of j.files) expect(Object.keys(f)).toEqual(['name', 'bytes']);
    expect(j.files.filter((f: { name: string }) => f.name.startsWith('wgsl/')).length).toBeGreaterThanOrEqual(j.kernels);
    expect(Object.keys(j.activation_bytes)).toEqual(['planned', 'unplanned']);
    expect(j.activation_bytes.planned).toBeLessThanOrEqual(j.activation_bytes.unplanned);
    expect(j.temporaries).toBeGreaterThanOrEqual(j.planned_buffers);
    const params = lowerModel(checkOrThrow(tiny)).params.reduce((s, p) => s + p.type.shape.reduce((a: number, d) => a * Number(d), 1), 0);
    expect(j.parameters).toBe(params);
    expect(typeof j.compile_ms).toBe('number');

    const cuda = JSON.parse(moec('compile', tiny, '--target', 'cuda', '-o', join(dir, 'compiled-cuda'), '--json').stdout);
    expect(Object.keys(cuda)).toEqual(Object.keys(j));
    expect(cuda.files.map((f: { name: string }) => f.name)).toEqual(['model.cu', 'manifest.json', 'model.ts']);
    expect(cuda.functions).toBeGreaterThan(0);
    expect(cuda.seq).toBe(2048);
  });

  it('run: model, target, output names and shapes, time; no profile without --profile', () => {
    const spec = join(dir, 'qwen.moe');
    expect(moec('import', 'hf', fixture, '-o', spec).status).toBe(0);
    const out = join(dir, 'out.safetensors');
    const r = moec('run', spec, '--weights', fixture, '--input', join(fixture, 'inputs.json'), '--out', out, '--json');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      model: 'qwen2_moe', target: 'ref', out, device: null,
      outputs: [
        { name: 'logits', shape: [2, 16, 512] },
        { name: 'router_logits.0', shape: [32, 8] },
        { name: 'expert_indices.0', shape: [32, 2] },
        { name: 'router_logits.1', shape: [32, 8] },
        { name: 'expert_indices.1', shape: [32, 2] },
        { name: 'aux_loss', shape: [] },
      ],
      ms: expect.any(Number),
      profile: null,
    });
  });

  it('convert: what was pooled and how to run it', () => {
    const weights = join(dir, 'mha.safetensors');
    const graph = lowerModel(checkOrThrow(tiny));
    writeSafetensors(weights, [...randomWeights(graph.params, 3, 0.3)].map(([name, t]) => ({ name, dtype: 'F32' as const, shape: t.shape, data: t.data })));
    const out = join(dir, 'gqa.safetensors');
    const r = moec('convert', tiny, '--weights', weights, '--kv-heads', '2', '-o', out, '--json');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ out, kv_heads: 2, projections: 4, norms: 0, from_heads: [4], hint: 'run it with --set kv=2' });
  });
});
