// moec convert --kv-heads N: GQA uptraining (Ainslie et al. 2023 §2.1), key/value heads mean-pooled per group.
// GQA with pooled heads is exactly MHA whose heads of a group all hold the group's mean, which the end-to-end test
// checks on the reference executor; then the dtypes kept, the checkpoint name map, and every refusal.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkOrThrow } from '../../compiler/api.ts';
import { lowerModel } from '../../compiler/lower/model.ts';
import { runPipeline } from '../../compiler/passes/pipeline.ts';
import { referenceExecutor } from '../../runtime/run-model.ts';
import { bf16BitsToNumber, f16BitsToNumber, openSafetensors, writeSafetensors } from '../../runtime/safetensors/index.ts';
import { fromFloat32 } from '../../runtime/safetensors/encode.ts';
import { bindWeights, type BoundParam } from '../../runtime/weights/bind.ts';
import { poolHeads } from '../../runtime/weights/pool-heads.ts';
import { randomWeights } from '../../runtime/weights/random.ts';
import { relativeL2 } from '../helpers/compare.ts';
import { scratch, writeSpec } from '../helpers/spec.ts';

const bin = new URL('../../bin/moec.js', import.meta.url).pathname;
const moec = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
const dir = join(scratch, 'convert-kv-heads');
mkdirSync(dir, { recursive: true });

// heads = 4 of width 8; `param kv` sets kv_heads, so the command can say which --set runs the converted checkpoint.
const spec = (map = '') => `param kv = 4
rmsnorm norm { eps: 1e-5 }
model tiny {
  vocab: 64
  d_model: 32
  decoder: stack {
    layers: 2
    block: block { norm: norm, attention: attention { heads: 4, kv_heads: kv, bias: true, rope: rope { theta: 10000 } }, ffn: ffn { hidden: 16, act: swiglu } }
    final_norm: norm
  }${map}
}
`;
const plain = writeSpec('kv-plain.moe', spec());

const graphOf = (file: string, kv: number) => runPipeline(lowerModel(checkOrThrow(file, { set: { kv: String(kv) } })));
const f32 = (w: Map<string, BoundParam>, rename: (n: string) => string = (n) => n) =>
  [...w].map(([name, t]) => ({ name: rename(name), dtype: 'F32' as const, shape: t.shape, data: t.data }));

/** Each head replaced by the mean of its group of `heads / groups` consecutive heads: [heads·hd, …] stays [heads·hd, …]. */
function groupMeansExpanded(data: Float32Array, heads: number, groups: number): Float32Array {
  const perHead = data.length / heads;
  const size = heads / groups;
  return Float32Array.from(data, (_, i) => {
    const h = Math.floor(i / perHead);
    const first = Math.floor(h / size) * size;
    let s = 0;
    for (let j = first; j < first + size; j++) s += data[j * perHead + (i % perHead)]!;
    return s / size;
  });
}

/** No output and no temporary file left in `dir` after a refusal. */
function refused(args: string[], out: string): string {
  const r = moec(...args);
  expect(r.status).toBe(1);
  expect(r.stdout).toBe('');
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(existsSync(out)).toBe(false);
  expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  return r.stderr;
}

describe('poolHeads', () => {
  it('2 heads to 1: the mean', () => {
    // Two heads of width 2 over 3 inputs: rows 0-1 are head 0, rows 2-3 head 1.
    const w = Float32Array.from([1, 2, 3, 4, 5, 6, /* head 1 */ 3, 2, 1, 0, -1, 10]);
    expect(Array.from(poolHeads(w, 2, 1))).toEqual([2, 2, 2, 2, 2, 8]);
    expect(Array.from(poolHeads(Float32Array.from([1, 3]), 2, 1))).toEqual([2]);
  });

  it('groups are consecutive heads, as kv_heads attention pairs them with query heads', () => {
    // 4 heads of width 1 to 2 groups: (h0, h1) and (h2, h3), not (h0, h2) and (h1, h3).
    expect(Array.from(poolHeads(Float32Array.from([1, 3, 10, 30]), 4, 2))).toEqual([2, 20]);
    expect(Array.from(poolHeads(Float32Array.from([1, 3, 10, 30]), 4, 4))).toEqual([1, 3, 10, 30]);
    expect(() => poolHeads(new Float32Array(4), 4, 3)).toThrow();
  });
});

describe('moec convert --kv-heads', () => {
  const mha = graphOf(plain, 4);
  const weights = randomWeights(mha.params, 7, 0.3);
  const input = join(dir, 'mha.safetensors');
  writeSafetensors(input, f32(weights));

  it('4 to 2 heads: GQA on the pooled checkpoint computes what MHA does with each group\'s heads set to their mean', () => {
    const out = join(dir, 'gqa.safetensors');
    const r = moec('convert', plain, '--weights', input, '--kv-heads', '2', '-o', out);
    expect(r.stderr).toBe(`pooled 8 key/value projections from 4 to 2 heads into ${out}; run it with --set kv=2\n`);
    expect(r.status).toBe(0);

    const gqa = graphOf(plain, 2);
    const file = openSafetensors(out);
    const pooled = bindWeights(gqa.params, [], file, out);
    file.close();
    expect(pooled.get('decoder.1.attn.v.weight')!.shape).toEqual([16, 32]);
    expect(pooled.get('decoder.1.attn.k.bias')!.shape).toEqual([16]);
    expect(pooled.get('decoder.1.attn.q.weight')!.data).toEqual(weights.get('decoder.1.attn.q.weight')!.data);

    const duplicated = new Map(weights);
    for (const [name, t] of weights) {
      if (/\.attn\.[kv]\.(weight|bias)$/.test(name)) duplicated.set(name, { shape: t.shape, data: groupMeansExpanded(t.data, 4, 2) });
    }
    const sizes = { batch: 2, seq: 6 };
    const ids = { input_ids: Int32Array.from({ length: 12 }, (_, i) => (i * 11 + 3) % 64) };
    const got = referenceExecutor(gqa)(pooled, ids, sizes).logits as Float32Array;
    const want = referenceExecutor(mha)(duplicated, ids, sizes).logits as Float32Array;
    const original = referenceExecutor(mha)(weights, ids, sizes).logits as Float32Array;
    expect(relativeL2(got, want)).toBeLessThan(1e-5);
    // And pooling did change the model: the test would pass vacuously otherwise.
    expect(relativeL2(got, original)).toBeGreaterThan(1e-3);
  });

  it('N = 1 is multi-query attention', () => {
    const out = join(dir, 'mqa.safetensors');
    const r = moec('convert', plain, '--weights', input, '--kv-heads', '1', '-o', out);
    expect(r.stderr).toBe(`pooled 8 key/value projections from 4 to 1 head into ${out}; run it with --set kv=1\n`);
    const file = openSafetensors(out);
    expect(file.tensors.get('decoder.0.attn.k.weight')!.shape).toEqual([8, 32]);
    expect(Array.from(file.readF32('decoder.0.attn.k.bias'))).toEqual(Array.from(poolHeads(weights.get('decoder.0.attn.k.bias')!.data, 4, 1)));
    file.close();
  });

  it('keeps each tensor\'s dtype: f16 and bf16 pooled in f32 and rounded back, the rest copied byte for byte', () => {
    const k = weights.get('decoder.0.attn.k.weight')!.data;
    const v = weights.get('decoder.0.attn.v.weight')!.data;
    const mixed = join(dir, 'mixed.safetensors');
    const raw = (name: string, dtype: 'F16' | 'BF16', data: Float32Array) => ({ name, dtype, shape: weights.get(name)!.shape, read: () => fromFloat32(dtype, data) });
    writeSafetensors(mixed, [
      ...f32(weights).filter((t) => !['decoder.0.attn.k.weight', 'decoder.0.attn.v.weight', 'embed'].includes(t.name)),
      raw('decoder.0.attn.k.weight', 'F16', k),
      raw('decoder.0.attn.v.weight', 'BF16', v),
      raw('embed', 'BF16', weights.get('embed')!.data),
      { name: 'step', dtype: 'I64', shape: [1], data: BigInt64Array.from([42n]) },
    ], { format: 'pt' });
    const out = join(dir, 'mixed-gqa.safetensors');
    expect(moec('convert', plain, '--weights', mixed, '--kv-heads', '2', '-o', out).status).toBe(0);
    const src = openSafetensors(mixed);
    const dst = openSafetensors(out);
    expect(dst.metadata).toEqual({ format: 'pt' });
    expect([...dst.tensors.keys()].sort()).toEqual([...src.tensors.keys()].sort());
    for (const [name, dtype, decode] of [['decoder.0.attn.k.weight', 'F16', f16BitsToNumber], ['decoder.0.attn.v.weight', 'BF16', bf16BitsToNumber]] as const) {
      expect(dst.tensors.get(name)!.dtype).toBe(dtype);
      expect(dst.tensors.get(name)!.shape).toEqual([16, 32]);
      const want = fromFloat32(dtype, poolHeads(src.readF32(name), 4, 2));
      expect(Buffer.from(dst.readRaw(name)).equals(Buffer.from(want))).toBe(true);
      // Rounded once from the f32 mean: within half a unit in the last place of the stored type.
      const bits = new Uint16Array(dst.readRaw(name).buffer);
      const mean = poolHeads(src.readF32(name), 4, 2);
      for (let i = 0; i < mean.length; i++) expect(Math.abs(decode(bits[i]!) - mean[i]!)).toBeLessThanOrEqual(Math.abs(mean[i]!) * (dtype === 'F16' ? 2 ** -11 : 2 ** -8) + 1e-7);
    }
    for (const name of ['embed', 'step', 'decoder.0.attn.q.weight', 'decoder.1.attn.o.weight']) {
      expect(dst.tensors.get(name)!.dtype).toBe(src.tensors.get(name)!.dtype);
      expect(dst.tensors.get(name)!.shape).toEqual(src.tensors.get(name)!.shape);
      expect(Buffer.from(dst.readRaw(name)).equals(Buffer.from(src.readRaw(name))), name).toBe(true);
    }
    src.close();
    dst.close();
  });

  it('through the spec\'s checkpoint name map', () => {
    const mapped = writeSpec('kv-mapped.moe', spec(`
  checkpoint: checkpoint {
    format: "huggingface"
    tensors: {
      "decoder.{layer}.attn.k.weight": "model.layers.{layer}.self_attn.k_proj.weight"
      "decoder.{layer}.attn.v.weight": "model.layers.{layer}.self_attn.v_proj.weight"
      "decoder.{layer}.attn.k.bias": "model.layers.{layer}.self_attn.k_proj.bias"
    }
  }`));
    const hfName = (n: string) => n.replace(/^decoder\.(\d+)\.attn\.([kv])\.weight$/, 'model.layers.$1.self_attn.$2_proj.weight').replace(/^decoder\.(\d+)\.attn\.k\.bias$/, 'model.layers.$1.self_attn.k_proj.bias');
    const hf = join(dir, 'hf.safetensors');
    writeSafetensors(hf, f32(weights, hfName));
    const out = join(dir, 'hf-gqa.safetensors');
    const r = moec('convert', mapped, '--weights', hf, '--kv-heads', '2', '-o', out);
    expect(r.stderr).toBe(`pooled 8 key/value projections from 4 to 2 heads into ${out}; run it with --set kv=2\n`);
    const file = openSafetensors(out);
    expect(file.tensors.get('model.layers.1.self_attn.v_proj.weight')!.shape).toEqual([16, 32]);
    expect(file.tensors.get('model.layers.1.self_attn.k_proj.bias')!.shape).toEqual([16]);
    expect(file.tensors.get('decoder.1.attn.v.bias')!.shape).toEqual([16]);
    expect(file.tensors.has('decoder.1.attn.v.weight')).toBe(false);
    // The converted checkpoint binds to the spec with kv = 2 through the same map.
    const gqa = graphOf(mapped, 2);
    expect(bindWeights(gqa.params, checkOrThrow(mapped).checkpoint!.tensors, file, out).get('decoder.0.attn.k.weight')!.shape).toEqual([16, 32]);
    file.close();
  });

  it('refuses, in one line, with nothing written', () => {
    const out = join(dir, 'refused.safetensors');
    const args = (file: string, weights: string, n: string) => ['convert', file, '--weights', weights, '--kv-heads', n, '-o', out];
    expect(refused(args(plain, input, '3'), out)).toBe('error: --kv-heads 3 must divide the kv_heads (4) of decoder.0.attn\n');
    expect(refused(args(plain, input, '8'), out)).toBe('error: --kv-heads 8 must divide the kv_heads (4) of decoder.0.attn\n');
    expect(refused(args(plain, input, '0'), out)).toBe("error: --kv-heads must be a positive integer, got '0'\n");
    expect(refused(args(plain, input, '-1'), out)).toBe("error: --kv-heads must be a positive integer, got '-1'\n");
    expect(refused(args(plain, input, '1.5'), out)).toBe("error: --kv-heads must be a positive integer, got '1.5'\n");

    const missing = join(dir, 'missing.safetensors');
    writeSafetensors(missing, f32(weights).filter((t) => t.name !== 'decoder.1.attn.v.weight'));
    expect(refused(args(plain, missing, '2'), out)).toBe(`error: ${missing}: tensor 'decoder.1.attn.v.weight': expected shape [32, 32] but the checkpoint does not have it\n`);

    const wrong = join(dir, 'wrong-shape.safetensors');
    writeSafetensors(wrong, f32(weights).map((t) => (t.name === 'decoder.0.attn.k.bias' ? { ...t, shape: [2, 16] } : t)));
    expect(refused(args(plain, wrong, '2'), out)).toBe(`error: ${wrong}: tensor 'decoder.0.attn.k.bias': expected shape [32] but the checkpoint has [2, 16]\n`);

    const ints = join(dir, 'int-weights.safetensors');
    writeSafetensors(ints, [...f32(weights).filter((t) => t.name !== 'decoder.0.attn.v.weight'), { name: 'decoder.0.attn.v.weight', dtype: 'I32', shape: [32, 32], data: new Int32Array(1024) }]);
    expect(refused(args(plain, ints, '2'), out)).toBe(`error: ${ints}: tensor 'decoder.0.attn.v.weight': dtype I32: --kv-heads pools F32, F16, BF16 tensors\n`);

    expect(refused(args('examples/deepseek-v3.moe', input, '1'), out)).toBe(
      'error: decoder.0.attn is multi-head latent attention (mla): its keys and values come from one shared latent, there are no key/value heads to pool\n');

    const fused = writeSpec('kv-fused.moe', spec(`
  checkpoint: checkpoint {
    format: "huggingface"
    tensors: {
      "decoder.{layer}.attn.q.weight": { tensor: "layers.{layer}.qkv.weight", chunk: 0, of: 3, axis: 0 }
      "decoder.{layer}.attn.k.weight": { tensor: "layers.{layer}.qkv.weight", chunk: 1, of: 3, axis: 0 }
      "decoder.{layer}.attn.v.weight": { tensor: "layers.{layer}.qkv.weight", chunk: 2, of: 3, axis: 0 }
    }
  }`));
    expect(refused(args(fused, input, '2'), out)).toBe(
      "error: decoder.0.attn.k.weight is chunk 1 of 3 of the fused tensor 'layers.0.qkv.weight': --kv-heads cannot pool a fused projection (its parts would no longer be equal chunks); unfuse the checkpoint first\n");
  });
});
