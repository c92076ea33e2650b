// Limits: sizes a spec may declare (check time, file:line:col), parameter counts, import nesting and cycles, and
// whether a run fits its target (refused before allocating, with what it needs and what the target holds).
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { check, renderDiagnostics } from '../../compiler/api.ts';
import { main } from '../../bin/main.ts';
import { displayPath, MAX_IMPORT_DEPTH } from '../../dsl/load.ts';
import { checkFits, cudaLimit, formatBytes, hostLimit, LimitError, referenceLimit, wasmLimit, webgpuLimit, type Needs } from '../../runtime/limits/fits.ts';

const dir = mkdtempSync(join(tmpdir(), 'moec-limits-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function spec(name: string, text: string): string {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

const tiny = (vocab: string, dModel: string, experts = '4') => `rmsnorm norm { eps: 1e-5 }
moe ff { experts: ${experts}, top_k: 1, expert: ffn { hidden: 8, act: gelu }, router: softmax {} }
model tiny {
  vocab: ${vocab}
  d_model: ${dModel}
  decoder: stack { layers: 1, block: block { norm: norm, ffn: ff }, final_norm: norm }
}
`;

describe('sizes in a spec', () => {
  it('a dimension of 10^12 is refused at its field, not overflowed', () => {
    const f = spec('dmodel.moe', tiny('16', '1e12'));
    const c = check(f);
    expect(c.model).toBeUndefined();
    expect(c.diagnostics[0]!.message).toBe('model.d_model is 1000000000000, over the limit of 2147483647 (2^31 - 1) for a size or count');
    expect(renderDiagnostics(c)).toContain(`--> ${displayPath(f)}:5:12\n`);
  });

  it('a vocabulary of 2^40 is refused at its field', () => {
    const f = spec('vocab.moe', tiny('2 ** 40', '8'));
    const c = check(f);
    expect(c.diagnostics.map((d) => d.message)).toEqual(['model.vocab is 1099511627776, over the limit of 2147483647 (2^31 - 1) for a size or count']);
    expect(renderDiagnostics(c)).toContain(`--> ${displayPath(f)}:4:10\n`);
  });

  it('2^31 - 1 itself is accepted as a size', () => {
    const c = check(spec('edge.moe', tiny('2 ** 31 - 1', '8')));
    expect(c.diagnostics).toEqual([]);
  });

  it('parameters past 2^53 in all are refused at the model, counted exactly', () => {
    const f = spec('count.moe', tiny('16', '2 ** 30', '2 ** 30'));
    const c = check(f);
    expect(c.model).toBeUndefined();
    expect(c.diagnostics.map((d) => d.message)).toEqual([
      'model tiny has 19,599,665,614,823,620,608 parameters (@decoder.0.moe.experts.up alone has 9,223,372,036,854,775,808); moec counts parameters exactly only below 2^53 (9,007,199,254,740,992)',
    ]);
    expect(renderDiagnostics(c)).toContain(`--> ${displayPath(f)}:3:1\n`);
  });
});

describe('imports', () => {
  it(`a chain of imports deeper than ${MAX_IMPORT_DEPTH} files is refused at the import that goes too deep`, () => {
    const sub = join(dir, 'chain');
    mkdirSync(sub);
    const n = MAX_IMPORT_DEPTH + 5;
    for (let i = 0; i < n; i++) writeFileSync(join(sub, `f${i}.moe`), i + 1 < n ? `import "f${i + 1}.moe"\n` : 'rmsnorm norm { eps: 1e-5 }\n');
    const c = check(join(sub, 'f0.moe'));
    expect(c.diagnostics.map((d) => d.message)).toEqual([`imports nested deeper than ${MAX_IMPORT_DEPTH} files`]);
    expect(renderDiagnostics(c)).toContain(`--> ${displayPath(join(sub, `f${MAX_IMPORT_DEPTH - 1}.moe`))}:1:1\n`);
  });

  it('a file importing itself is a cycle at its import line', () => {
    const f = spec('self.moe', 'rmsnorm norm { eps: 1e-5 }\nimport "self.moe"\n');
    const c = check(f);
    const shown = displayPath(f);
    expect(c.diagnostics.map((d) => d.message)).toEqual([`import cycle: ${shown} -> ${shown}`]);
    expect(renderDiagnostics(c)).toContain(`--> ${shown}:2:1\n`);
  });

  it('a three-file cycle names every file, at the import that closes it', () => {
    const [a, b, c3] = ['ca.moe', 'cb.moe', 'cc.moe'].map((n) => join(dir, n));
    writeFileSync(a!, 'import "cb.moe"\n');
    writeFileSync(b!, 'import "cc.moe"\n');
    writeFileSync(c3!, '\nimport "ca.moe"\n');
    const c = check(a!);
    const [sa, sb, sc] = [a!, b!, c3!].map(displayPath);
    expect(c.diagnostics.map((d) => d.message)).toEqual([`import cycle: ${sa} -> ${sb} -> ${sc} -> ${sa}`]);
    expect(renderDiagnostics(c)).toContain(`--> ${sc}:2:1\n`);
  });
});

describe('whether a run fits its target', () => {
  const needs = (o: Partial<Needs> = {}): Needs => ({
    model: 'm', paramBytes: 5 * 2 ** 30, activationBytes: 3_000_000, largest: { name: 'parameter @embed', elements: 2 ** 20 }, at: 'batch 1, seq 3', ...o,
  });

  it('formats bytes: exact binary units for powers of two, decimal otherwise', () => {
    expect([formatBytes(2 ** 32), formatBytes(16 * 2 ** 30), formatBytes(2_684_105_676_800), formatBytes(4_790_000), formatBytes(512)])
      .toEqual(['4 GiB', '16 GiB', '2.68 TB', '4.79 MB', '512 bytes']);
  });

  it('wasm: 4 GiB of memory32 for weights and activations together', () => {
    expect(() => checkFits(needs(), wasmLimit)).toThrow(new LimitError('m needs 5.37 GB of f32 parameters and 3.00 MB of activations (at batch 1, seq 3), 5.37 GB in all; the wasm target addresses at most 4 GiB (memory32: 65536 pages of 64 KiB), weights and activations together'));
    expect(() => checkFits(needs({ paramBytes: 2 ** 32 - 3_000_000 }), wasmLimit)).not.toThrow();
  });

  it('reference executor: one Float32Array a tensor (2^32 elements in Node 20), and the machine memory', () => {
    expect(() => checkFits(needs({ largest: { name: 'parameter @embed', elements: 2 ** 32 + 1 } }), referenceLimit(64 * 2 ** 30)))
      .toThrow(new LimitError('m: parameter @embed has 4,294,967,297 elements (at batch 1, seq 3); the reference executor holds each tensor in one Float32Array, at most 4,294,967,296 (2^32) elements in Node'));
    expect(() => checkFits(needs(), referenceLimit(4 * 2 ** 30)))
      .toThrow(new LimitError('m needs 5.37 GB of f32 parameters and 3.00 MB of activations (at batch 1, seq 3), 5.37 GB in all; this machine has 4 GiB of memory'));
    expect(() => checkFits(needs(), referenceLimit(8 * 2 ** 30))).not.toThrow();
    expect(() => checkFits(needs(), hostLimit(2 ** 30)))
      .toThrow(new LimitError('m needs 5.37 GB of f32 parameters and 3.00 MB of activations (at batch 1, seq 3), 5.37 GB in all; moec reads the weights into host memory as f32 first, and this machine has 1 GiB of memory'));
  });

  it('webgpu: the largest tensor against the adapter\'s binding limit', () => {
    const limit = webgpuLimit('lavapipe', 2 ** 27, 2 ** 28);
    expect(() => checkFits(needs({ largest: { name: 'parameter @embed', elements: 2 ** 25 + 1 } }), limit))
      .toThrow(new LimitError('m: parameter @embed has 33,554,433 elements (at batch 1, seq 3); the adapter lavapipe binds at most 128 MiB (33,554,432 f32 elements) in one buffer (maxStorageBufferBindingSize)'));
    expect(() => checkFits(needs({ largest: { name: 'parameter @embed', elements: 2 ** 25 } }), limit)).not.toThrow();
  });

  it('cuda: weights and activations against the device memory (a stand-in total)', () => {
    expect(() => checkFits(needs({ paramBytes: 2_684_105_676_800 }), cudaLimit('NVIDIA H100 80GB HBM3', 85_045_231_616)))
      .toThrow(new LimitError('m needs 2.68 TB of f32 parameters and 3.00 MB of activations (at batch 1, seq 3), 2.68 TB in all; the CUDA device NVIDIA H100 80GB HBM3 has 85.05 GB of memory'));
    expect(() => checkFits(needs(), cudaLimit('H100', 85_045_231_616))).not.toThrow();
  });

  it('moec run deepseek-v3 --target wasm is refused before any weight is read (the weights path does not even exist)', async () => {
    const input = spec('inputs.json', JSON.stringify({ input_ids: [[1, 2, 3]] }));
    const outDir = join(dir, 'run-out');
    mkdirSync(outDir);
    const writes: string[] = [];
    const original = process.stderr.write.bind(process.stderr);
    const listeners = process.stdout.listeners('error');
    process.stderr.write = ((chunk: string) => (writes.push(String(chunk)), true)) as typeof process.stderr.write;
    let status: number;
    try {
      status = await main(['run', 'examples/deepseek-v3.moe', '--target', 'wasm', '--weights', join(dir, 'no-such-weights'), '--input', input, '--out', join(outDir, 'o.safetensors')]);
    } finally {
      process.stderr.write = original;
      for (const l of process.stdout.listeners('error')) if (!listeners.includes(l)) process.stdout.off('error', l as () => void);
    }
    expect(status).toBe(1);
    expect(writes.join('')).toBe('error: deepseek_v3 needs 2.68 TB of f32 parameters and 4.79 MB of activations (at batch 1, seq 3), 2.68 TB in all; the wasm target addresses at most 4 GiB (memory32: 65536 pages of 64 KiB), weights and activations together\n');
    expect(readdirSync(outDir)).toEqual([]);
  }, 20_000);
});
