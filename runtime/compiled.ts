// What every target's loader of a compiled model does the same way: bind a checkpoint's tensors to the manifest's
// parameters (by the spec's name mapping), and turn an inputs.json into token ids and sizes.
import { readInputs, tokenFeeds } from './inputs.ts';
import { openCheckpoint } from './safetensors/index.ts';
import type { Manifest } from './wasm/manifest.ts';
import { bindWeights, type BoundParam } from './weights/bind.ts';

type Described = Pick<Manifest, 'params' | 'checkpoint' | 'vocab'> & { program: { inputs: { name: string }[] } };

/** The checkpoint at `weights` bound to the manifest's parameters (the file closed again). */
export function bindCompiledWeights(manifest: Described, weights: string): Map<string, BoundParam> {
  const checkpoint = openCheckpoint(weights);
  try {
    const params = manifest.params.map((p) => ({ name: p.name, type: { dtype: 'f32' as const, shape: p.shape }, attrs: {} }));
    return bindWeights(params, manifest.checkpoint, checkpoint, weights);
  } finally {
    checkpoint.close();
  }
}

/** Token ids and sizes from an inputs.json file, for the manifest's program. */
export function compiledFeeds(manifest: Described, inputsJson: string) {
  return tokenFeeds(readInputs(inputsJson, manifest.program.inputs.map((i) => i.name), manifest.vocab));
}
