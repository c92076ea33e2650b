// The benchmark's large Mixtral-shaped model (d1024, 8 experts top-2, 4 layers, vocab 32000; ~353M parameters,
// 1.41 GB in float32), rebuilt deterministically in a cache folder, because it is too big to check in:
//
//   config.json        the HF config (bench/models/mixtral-d1024.config.json), for `moec import hf`
//   model.safetensors  the weights under the HF checkpoint names, as transformers 5.17 saves Mixtral
//                      (per expert block_sparse_moe.experts.{e}.w1/w2/w3.weight; same layout as the fixture)
//   model.onnx         the graph that torch.onnx (dynamo) exported on the device (bench/models/mixtral-d1024.graph.onnx)
//   model.onnx.data    its external data: every initializer at the offset bench/models/mixtral-d1024.external.json
//                      gives, built from the same generated tensors (bench/onnx/weights.ts)
//   inputs.json        {"input_ids": [[...512 ids...]]}, input_ids[0][i] = (i*7919+13) % 32000
//   stamp.json         written last; when it matches, nothing is redone
//
// Every tensor and initializer is checked against the sha256 the device recorded, so the files are
// bit-identical to what torch ran. `checkLargeLogits` compares logits with torch's (bench/models/mixtral-d1024.reference.json).
//
//   npx tsx bench/onnx/large-model.ts [--dir bench/.cache/mixtral-d1024] [--force]
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { genTensor, legacyTensorSpecs, materialize, type MixtralConfig, type Recipe } from './weights.ts';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
export const MODELS_DIR = here('../models');
export const DEFAULT_CACHE_DIR = here('../.cache/mixtral-d1024');
export const SEQ = 512;
const STAMP_VERSION = 1;

export interface ExternalInitializer {
  name: string;
  dims: number[];
  data_type: number;
  dtype: string;
  location: string;
  offset: number;
  length: number;
  sha256: string;
  parameter: boolean;
  recipe?: Recipe;
  extra?: { file: string; offset: number; length: number };
}

export interface ExternalManifest {
  graph: string;
  location: string;
  data_length: number;
  initializers: ExternalInitializer[];
  checkpoint: { name: string; shape: number[]; dtype: string; sha256: string }[];
}

export interface LargeModelFiles {
  dir: string;
  config: string;
  safetensors: string;
  onnx: string;
  onnxData: string;
  /** The location string the graph's initializers use (pass as externalDataLocation to ORT). */
  onnxDataLocation: string;
  inputs: string;
}

export function largeModelFiles(dir = DEFAULT_CACHE_DIR): LargeModelFiles {
  return {
    dir,
    config: nodePath.join(dir, 'config.json'),
    safetensors: nodePath.join(dir, 'model.safetensors'),
    onnx: nodePath.join(dir, 'model.onnx'),
    onnxData: nodePath.join(dir, 'model.onnx.data'),
    onnxDataLocation: 'model.onnx.data',
    inputs: nodePath.join(dir, 'inputs.json'),
  };
}

/** input_ids [1, 512]: (i*7919 + 13) % vocab. */
export function largeInputIds(vocab = 32000, seq = SEQ): Int32Array {
  return Int32Array.from({ length: seq }, (_, i) => (i * 7919 + 13) % vocab);
}

const sha = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');
const bytesOf = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

function writeAllSync(fd: number, data: Uint8Array, position: number): void {
  for (let done = 0; done < data.byteLength; ) done += fs.writeSync(fd, data, done, data.byteLength - done, position + done);
}

/** What the stamp records: the inputs that determine the files, and their sizes. */
function expectedStamp(manifestText: string, graph: Buffer, configText: string, safetensorsSize: number, dataLength: number) {
  return {
    version: STAMP_VERSION,
    manifest: sha(manifestText),
    graph: sha(graph),
    config: sha(configText),
    sizes: { 'model.safetensors': safetensorsSize, 'model.onnx.data': dataLength, 'model.onnx': graph.byteLength },
  };
}

function safetensorsHeader(specs: { name: string; shape: number[] }[]): { header: Buffer; dataBytes: number } {
  const h: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let off = 0;
  for (const s of specs) {
    const n = s.shape.reduce((a, b) => a * b, 1) * 4;
    h[s.name] = { dtype: 'F32', shape: s.shape, data_offsets: [off, off + n] };
    off += n;
  }
  let json = JSON.stringify(h);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const body = Buffer.from(json, 'utf8');
  const header = Buffer.alloc(8 + body.byteLength);
  header.writeBigUInt64LE(BigInt(body.byteLength), 0);
  body.copy(header, 8);
  return { header, dataBytes: off };
}

export interface EnsureOptions {
  force?: boolean;
  log?: (msg: string) => void;
}

/**
 * (Re)creates the large model's files in `dir` unless its stamp says they are complete and current.
 * Peak memory is one initializer (the largest, a layer's fused gate_up_proj, is 184 MB) plus the manifest.
 */
export function ensureLargeModel(dir = DEFAULT_CACHE_DIR, opts: EnsureOptions = {}): LargeModelFiles {
  const log = opts.log ?? ((m: string) => console.error(m));
  const files = largeModelFiles(dir);
  const manifestText = fs.readFileSync(nodePath.join(MODELS_DIR, 'mixtral-d1024.external.json'), 'utf8');
  const manifest: ExternalManifest = JSON.parse(manifestText);
  const graph = fs.readFileSync(nodePath.join(MODELS_DIR, manifest.graph));
  const configText = fs.readFileSync(nodePath.join(MODELS_DIR, 'mixtral-d1024.config.json'), 'utf8');
  const config: MixtralConfig = JSON.parse(configText);
  const specs = legacyTensorSpecs(config);
  const { header, dataBytes } = safetensorsHeader(specs);
  const want = expectedStamp(manifestText, graph, configText, header.byteLength + dataBytes, manifest.data_length);
  const stampPath = nodePath.join(dir, 'stamp.json');

  if (!opts.force && fs.existsSync(stampPath)) {
    try {
      const have = JSON.parse(fs.readFileSync(stampPath, 'utf8'));
      const sizesOk = Object.entries(want.sizes).every(([f, n]) => fs.existsSync(nodePath.join(dir, f)) && fs.statSync(nodePath.join(dir, f)).size === n);
      if (JSON.stringify(have) === JSON.stringify(want) && sizesOk && fs.existsSync(files.config) && fs.existsSync(files.inputs)) return files;
    } catch {
      // a broken stamp: rebuild
    }
  }
  fs.mkdirSync(dir, { recursive: true });
  fs.rmSync(stampPath, { force: true });
  const t0 = performance.now();

  // The checkpoint: generated tensor by tensor, each checked against the device's sha256.
  const shaByName = new Map(manifest.checkpoint.map((c) => [c.name, c.sha256]));
  if (manifest.checkpoint.length !== specs.length || specs.some((s) => !shaByName.has(s.name))) {
    throw new Error('the checkpoint tensors of mixtral-d1024.external.json differ from the ones the config implies');
  }
  const shapes = new Map(specs.map((s) => [s.name, s.shape] as const));
  {
    const tmp = `${files.safetensors}.tmp`;
    const fd = fs.openSync(tmp, 'w');
    try {
      writeAllSync(fd, header, 0);
      let pos = header.byteLength;
      for (const s of specs) {
        const a = genTensor(s.name, s.shape.reduce((x, y) => x * y, 1));
        const b = bytesOf(a);
        if (sha(b) !== shaByName.get(s.name)) throw new Error(`generated ${s.name} differs from the device's (sha256): the generator drifted`);
        writeAllSync(fd, b, pos);
        pos += b.byteLength;
      }
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, files.safetensors);
    log(`large model: wrote ${files.safetensors} (${((header.byteLength + dataBytes) / 1e9).toFixed(2)} GB, ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  }

  // The ONNX external data: every initializer at its offset, checked against the device's sha256.
  {
    const t1 = performance.now();
    const tmp = `${files.onnxData}.tmp`;
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.ftruncateSync(fd, manifest.data_length);
      for (const init of manifest.initializers) {
        if (init.location !== manifest.location) throw new Error(`initializer ${init.name} lives in ${init.location}, expected ${manifest.location}`);
        let b: Uint8Array;
        if (init.recipe) {
          if (init.data_type !== 1) throw new Error(`initializer ${init.name}: a recipe for data_type ${init.data_type}`);
          b = bytesOf(materialize(init.recipe, shapes, init.length / 4));
        } else if (init.extra) {
          const extra = fs.readFileSync(nodePath.join(MODELS_DIR, init.extra.file));
          b = extra.subarray(init.extra.offset, init.extra.offset + init.extra.length);
        } else {
          throw new Error(`initializer ${init.name}: neither a recipe nor extra data`);
        }
        if (b.byteLength !== init.length || sha(b) !== init.sha256) throw new Error(`initializer ${init.name}: rebuilt bytes differ from the device's (sha256)`);
        writeAllSync(fd, b, init.offset);
      }
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, files.onnxData);
    log(`large model: wrote ${files.onnxData} (${(manifest.data_length / 1e9).toFixed(2)} GB, ${((performance.now() - t1) / 1000).toFixed(1)} s)`);
  }

  fs.writeFileSync(files.onnx, graph);
  fs.writeFileSync(files.config, configText);
  fs.writeFileSync(files.inputs, `{"input_ids": [[${Array.from(largeInputIds(config.vocab_size)).join(', ')}]]}`);
  fs.writeFileSync(stampPath, JSON.stringify(want));
  log(`large model: ready in ${dir} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  return files;
}

export interface LargeReference {
  shape: number[];
  first64_token0: number[];
  first64_token511: number[];
  argmax: number[];
  row_l2: number[];
  token0_f32_b64: string;
  token511_f32_b64: string;
}

export function loadLargeReference(): LargeReference {
  return JSON.parse(fs.readFileSync(nodePath.join(MODELS_DIR, 'mixtral-d1024.reference.json'), 'utf8'));
}

export interface LargeLogitsCheck {
  /** rel L2 over the full rows of tokens 0 and 511 (2 × 32000 logits) against torch. */
  relL2Rows: number;
  /** max |diff| over those rows. */
  maxAbsDiffRows: number;
  /** tokens (of 512) whose argmax equals torch's. */
  argmaxMatches: number;
  tokens: number;
  /** largest relative difference of a row's L2 norm, over all 512 tokens. */
  maxRowNormRelDiff: number;
}

/** Compares logits [1, 512, vocab] (row-major) with torch's summary on the device. */
export function checkLargeLogits(logits: Float32Array, ref = loadLargeReference()): LargeLogitsCheck {
  const [, seq, vocab] = ref.shape as [number, number, number];
  if (logits.length !== seq * vocab) throw new Error(`expected ${seq}×${vocab} logits, got ${logits.length}`);
  const row = (b64: string) => new Float32Array(new Uint8Array(Buffer.from(b64, 'base64')).buffer);
  const want = [row(ref.token0_f32_b64), row(ref.token511_f32_b64)];
  const got = [logits.subarray(0, vocab), logits.subarray((seq - 1) * vocab, seq * vocab)];
  let num = 0, den = 0, maxAbs = 0;
  for (let r = 0; r < 2; r++) {
    for (let j = 0; j < vocab; j++) {
      const d = got[r]![j]! - want[r]![j]!;
      num += d * d;
      den += want[r]![j]! * want[r]![j]!;
      maxAbs = Math.max(maxAbs, Math.abs(d));
    }
  }
  let argmaxMatches = 0, maxRowNormRelDiff = 0;
  for (let t = 0; t < seq; t++) {
    let best = 0, l2 = 0;
    for (let j = 0; j < vocab; j++) {
      const v = logits[t * vocab + j]!;
      l2 += v * v;
      if (v > logits[t * vocab + best]!) best = j;
    }
    if (best === ref.argmax[t]) argmaxMatches++;
    maxRowNormRelDiff = Math.max(maxRowNormRelDiff, Math.abs(Math.sqrt(l2) - ref.row_l2[t]!) / ref.row_l2[t]!);
  }
  return { relL2Rows: Math.sqrt(num / den), maxAbsDiffRows: maxAbs, argmaxMatches, tokens: seq, maxRowNormRelDiff };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === fs.realpathSync(process.argv[1])) {
  const { values } = parseArgs({ options: { dir: { type: 'string', default: DEFAULT_CACHE_DIR }, force: { type: 'boolean', default: false } } });
  const t = performance.now();
  const f = ensureLargeModel(nodePath.resolve(values.dir!), { force: values.force });
  console.log(`${f.dir}: config.json, model.safetensors, model.onnx, model.onnx.data, inputs.json (${((performance.now() - t) / 1000).toFixed(1)} s)`);
}
