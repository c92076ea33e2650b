// The Hugging Face fixtures: the shared ones in ../shared/fixtures/hf and the project's own in tests/fixtures/hf.
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkOrThrow } from '../../compiler/api.ts';
import { importHf } from '../../compiler/import/hf/index.ts';
import type { ModelSpec } from '../../compiler/spec/types.ts';
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
