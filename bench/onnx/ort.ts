// onnxruntime-web's WebAssembly backend from Node, for the wasm benchmark's ORT side.
//
//   const s = await ortSession('bench/models/mixtral-fixture.onnx', { threads: 1 });
//   const { logits, dims, ms } = await s.run(inputIds, [batch, seq]);
//
// `import 'onnxruntime-web'` resolves, under Node, to dist/ort.node.min.mjs, which loads the
// SIMD + threads build (dist/ort-wasm-simd-threaded.wasm) from the package; threads are worker_threads
// on a shared memory. ORT fixes the thread count when it initialises its wasm module (the first
// session in the process), so one process can only use one thread count: run 1 and 2 threads in
// separate processes (bench/onnx/ort-large.ts does).
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import * as ort from 'onnxruntime-web';

export interface OrtSessionOptions {
  /** ORT's intra-op threads (ort.env.wasm.numThreads); 1 = no worker threads. */
  threads: number;
  /** The external data file (weights), if the model has one; read here and handed to ORT as bytes. */
  externalDataPath?: string;
  /** The file name the model's initializers name as their location (default: externalDataPath's base name). */
  externalDataLocation?: string;
  /** ORT graph optimisation level (default 'all', as a deployment would use). */
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
}

export interface OrtRunResult {
  logits: Float32Array;
  dims: number[];
  /** Wall time of session.run alone (feeds in, outputs copied out), in milliseconds. */
  ms: number;
}

export interface OrtSession {
  readonly inputName: string;
  readonly outputName: string;
  /** Time InferenceSession.create took (parse, graph optimisation, weight pre-packing), in milliseconds. */
  readonly createMs: number;
  run(inputIds: Int32Array | BigInt64Array | readonly number[], shape: readonly number[]): Promise<OrtRunResult>;
  release(): Promise<void>;
}

let initialisedThreads: number | undefined;

/** Reads a file of any size (fs.readFileSync stops at 2 GiB) into one buffer. */
export function readWholeFile(path: string): Uint8Array {
  const size = fs.statSync(path).size;
  const out = new Uint8Array(size);
  const fd = fs.openSync(path, 'r');
  try {
    for (let done = 0; done < size; ) {
      const got = fs.readSync(fd, out, done, Math.min(size - done, 1 << 30), done);
      if (got === 0) throw new Error(`${path}: unexpected end of file`);
      done += got;
    }
  } finally {
    fs.closeSync(fd);
  }
  return out;
}

export async function ortSession(modelPath: string, opts: OrtSessionOptions): Promise<OrtSession> {
  if (initialisedThreads !== undefined && initialisedThreads !== opts.threads) {
    throw new Error(`onnxruntime-web was initialised with ${initialisedThreads} thread(s) in this process; ${opts.threads} needs a new process`);
  }
  ort.env.wasm.numThreads = opts.threads;
  ort.env.wasm.proxy = false;
  initialisedThreads = opts.threads;

  const model = readWholeFile(modelPath);
  const sessionOptions: ort.InferenceSession.SessionOptions = {
    executionProviders: ['wasm'],
    graphOptimizationLevel: opts.graphOptimizationLevel ?? 'all',
  };
  if (opts.externalDataPath) {
    sessionOptions.externalData = [
      { path: opts.externalDataLocation ?? nodePath.basename(opts.externalDataPath), data: readWholeFile(opts.externalDataPath) },
    ];
  }
  const t0 = performance.now();
  let session: ort.InferenceSession | undefined = await ort.InferenceSession.create(model, sessionOptions);
  const createMs = performance.now() - t0;
  // let the weights' JS copy go: ORT has copied them into its wasm memory
  delete sessionOptions.externalData;

  const inputName = session.inputNames[0]!;
  const outputName = session.outputNames[0]!;
  return {
    inputName,
    outputName,
    createMs,
    async run(inputIds, shape) {
      if (!session) throw new Error('session released');
      const n = shape.reduce((a, b) => a * b, 1);
      if (inputIds.length !== n) throw new Error(`input_ids has ${inputIds.length} values, shape [${shape.join(', ')}] needs ${n}`);
      const ids = inputIds instanceof BigInt64Array ? inputIds : BigInt64Array.from(inputIds as ArrayLike<number>, (v) => BigInt(v));
      const feeds = { [inputName]: new ort.Tensor('int64', ids, [...shape]) };
      const t = performance.now();
      const out = await session.run(feeds);
      const ms = performance.now() - t;
      const y = out[outputName]!;
      if (y.type !== 'float32') throw new Error(`output ${outputName} is ${y.type}, expected float32`);
      const logits = y.data as Float32Array;
      for (const k of Object.keys(out)) if (k !== outputName) out[k]!.dispose();
      return { logits, dims: [...y.dims], ms };
    },
    async release() {
      await session?.release();
      session = undefined;
    },
  };
}

/** ‖a − b‖₂ / ‖b‖₂ in float64. */
export function relL2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`relL2: lengths differ (${a.length} vs ${b.length})`);
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    num += d * d;
    den += b[i]! * b[i]!;
  }
  return Math.sqrt(num / den);
}
