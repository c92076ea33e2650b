// The Hugging Face fixtures: the shared ones in ../shared/fixtures/hf and the project's own in tests/fixtures/hf.
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkOrThrow } from '../../compiler/api.ts';
import { importHf } from '../../compiler/import/hf/index.ts';
import type { Graph } from '../../compiler/ir/types.ts';
import type { ModelSpec } from '../../compiler/spec/types.ts';
import { readInputs } from '../../runtime/inputs.ts';
import { namedOutputs, prepareRun, referenceExecutor } from '../../runtime/run-model.ts';
import { openCheckpoint, openSafetensors } from '../../runtime/safetensors/index.ts';
import { scratch } from './spec.ts';

const shared = new URL('../../../shared/fixtures/hf/', import.meta.url).pathname;
const own = new URL('../fixtures/hf/', import.meta.url).pathname;

export function fixtureDirs(): string[] {
  const list = (root: string) => (existsSync(root) ? readdirSync(root).filter((d) => existsSync(join(root, d, 'reference.safetensors'))).map((d) => join(root, d)) : []);
  return [...list(shared), ...list(own)];
}

/** The spec `moec import hf` makes of a fixture, checked. */
export function importedSpec(dir: string): ModelSpec {
  const path = join(scratch, `${dir.split('/').pop()}-imported.moe`);
  writeFileSync(path, importHf(dir).text);
  return checkOrThrow(path);
}

/** A fixture's checkpoint bound to the graph's parameters, and its inputs.json as token ids and sizes. */
export function fixtureRun(dir: string, spec: ModelSpec, graph: Graph) {
  const checkpoint = openCheckpoint(dir);
  try {
    const inputs = readInputs(join(dir, 'inputs.json'), graph.inputs.map((i) => i.name), spec.vocab);
    return prepareRun(graph, spec.checkpoint?.tensors ?? [], checkpoint, dir, inputs);
  } finally {
    checkpoint.close();
  }
}

/** What a run of the fixture is checked against: transformers' logits, and the reference executor's outputs by name. */
export function fixtureReference(dir: string, graph: Graph, run: ReturnType<typeof fixtureRun>) {
  const ref = new Map(namedOutputs(graph, referenceExecutor(graph)(run.weights, run.ids, run.sizes), run.sizes).map((o) => [o.name, o]));
  return { ref, want: openSafetensors(join(dir, 'reference.safetensors')).readF32('logits') };
}
