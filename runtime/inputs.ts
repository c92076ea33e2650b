// Model inputs from inputs.json: integer token ids, checked for shape and range before anything runs.
import { readFileSync } from 'node:fs';

export class InputError extends Error {}

export interface TokenInput {
  name: string;
  batch: number;
  seq: number;
  ids: Int32Array;
}

function parseIds(file: string, key: string, value: unknown, vocab: number): TokenInput {
  if (!Array.isArray(value) || value.length === 0 || !value.every(Array.isArray)) {
    throw new InputError(`${file}: '${key}' must be a non-empty list of lists of token ids ([batch][seq])`);
  }
  const rows = value as unknown[][];
  const seq = rows[0]!.length;
  if (seq === 0) throw new InputError(`${file}: '${key}' has empty sequences`);
  const ids = new Int32Array(rows.length * seq);
  rows.forEach((row, b) => {
    if (row.length !== seq) throw new InputError(`${file}: '${key}' rows differ in length: row 0 has ${seq} ids, row ${b} has ${row.length}`);
    row.forEach((id, s) => {
      if (typeof id !== 'number' || !Number.isInteger(id)) throw new InputError(`${file}: ${key}[${b}][${s}] is ${JSON.stringify(id)}, not a token id`);
      if (id < 0 || id >= vocab) throw new InputError(`${file}: ${key}[${b}][${s}] = ${id} is out of range for a vocabulary of ${vocab} (0 … ${vocab - 1})`);
      ids[b * seq + s] = id;
    });
  });
  return { name: key, batch: rows.length, seq, ids };
}

/** Reads the keys a graph needs (`input_ids`, and `decoder_input_ids` for encoder-decoder models). */
export function readInputs(file: string, keys: readonly string[], vocab: number): Map<string, TokenInput> {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new InputError(`${file}: ${err.code === 'ENOENT' ? 'no such file' : `not valid JSON (${err.message})`}`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new InputError(`${file}: expected a JSON object with ${keys.join(' and ')}`);
  const obj = json as Record<string, unknown>;
  const out = new Map<string, TokenInput>();
  for (const k of keys) {
    if (!(k in obj)) throw new InputError(`${file}: missing '${k}' (this model reads ${keys.join(' and ')})`);
    out.set(k, parseIds(file, k, obj[k], vocab));
  }
  const batches = new Set([...out.values()].map((t) => t.batch));
  if (batches.size > 1) throw new InputError(`${file}: ${keys.join(' and ')} have different batch sizes`);
  return out;
}

/** Token inputs as an executor takes them: ids by input name, and the sizes (batch, seq, dec_seq) they fix. */
export function tokenFeeds(inputs: Map<string, TokenInput>): { ids: Record<string, Int32Array>; sizes: Record<string, number> } {
  const sizes: Record<string, number> = {};
  const ids: Record<string, Int32Array> = {};
  for (const [name, t] of inputs) {
    sizes.batch = t.batch;
    sizes[name === 'decoder_input_ids' ? 'dec_seq' : 'seq'] = t.seq;
    ids[name] = t.ids;
  }
  return { ids, sizes };
}
