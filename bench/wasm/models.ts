// The two models of the wasm benchmark and the shape of one measurement.
import { fileURLToPath } from 'node:url';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

/** The mixtral fixture (HF transformers 5.17, seeded) and its ONNX export (bench/onnx/export_mixtral.py). */
export const fixtureDir = here('../../../shared/fixtures/hf/mixtral');
export const fixtureOnnx = here('../models/mixtral-fixture.onnx');
/** The large Mixtral-shaped model's files (made by bench/onnx/large-model.ts) and the imported specs. */
export const cacheDir = here('../.cache/mixtral-d1024');

export interface Measurement {
  engine: string;
  model: string;
  threads: number;
  /** Tokens per forward (batch × sequence). */
  tokens: number;
  /** Compile (moec) or session creation (ORT) plus loading the weights, in milliseconds. */
  loadMs: number;
  firstMs: number;
  ms: number[];
  medianMs: number;
  tokensPerSecond: number;
  /** Agreement of the first forward's logits with the reference (HF for the fixture, torch on the device for the large model). */
  check: { relL2: number; argmaxMatches?: number; tokens?: number };
  maxRssMiB: number;
  /** moec only: milliseconds per kind of kernel in one forward. */
  profile?: Record<string, number>;
}
