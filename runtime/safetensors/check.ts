import { formatShape } from './shape.ts';

export interface ExpectedTensor {
  name: string;
  shape: readonly number[];
}

/** Anything with a tensor table: a SafetensorsFile, a Checkpoint, or a plain Map in tests. */
export interface HasTensorShapes {
  readonly tensors: ReadonlyMap<string, { readonly shape: readonly number[] }>;
}

export interface CheckOptions {
  /** Tied or unused weights (e.g. a second copy of the embeddings) may be fine to ignore. */
  allowUnexpected?: boolean;
}

/**
 * Compares a checkpoint with the tensors a model needs and returns every
 * problem at once (empty when all is well), so a user fixes them in one go
 * rather than one per run.
 */
export function checkTensors(file: HasTensorShapes, expected: readonly ExpectedTensor[], options: CheckOptions = {}): string[] {
  const problems: string[] = [];
  const wanted = new Set<string>();
  for (const { name, shape } of expected) {
    wanted.add(name);
    const actual = file.tensors.get(name);
    if (actual === undefined) {
      problems.push(`tensor '${name}': expected shape ${formatShape(shape)} but the checkpoint does not have it`);
    } else if (!sameShape(shape, actual.shape)) {
      problems.push(`tensor '${name}': expected shape ${formatShape(shape)} but the checkpoint has ${formatShape(actual.shape)}`);
    }
  }
  if (!options.allowUnexpected) {
    for (const [name, actual] of file.tensors) {
      if (!wanted.has(name)) {
        problems.push(`tensor '${name}': not expected, but the checkpoint has it with shape ${formatShape(actual.shape)}`);
      }
    }
  }
  return problems;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((dim, i) => dim === b[i]);
}
