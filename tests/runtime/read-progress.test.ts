// Reading weights with progress: bytes read of the checkpoint's total after each tensor, labelled with the file (and
// the shard's number in a sharded checkpoint); without a callback the source itself.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openCheckpoint, writeSafetensors } from '../../runtime/safetensors/index.ts';
import { readLabel, withReadProgress } from '../../runtime/weights/read-progress.ts';
import { scratch } from '../helpers/spec.ts';

const dir = join(scratch, 'read-progress');
mkdirSync(dir, { recursive: true });
const f32 = (name: string, n: number) => ({ name, dtype: 'F32' as const, shape: [n], data: new Float32Array(n).fill(1) });

describe('withReadProgress', () => {
  it('a sharded checkpoint: bytes of the total, each read named by its shard', () => {
    writeSafetensors(join(dir, 'model-00001-of-00002.safetensors'), [f32('a', 4)]);
    writeSafetensors(join(dir, 'model-00002-of-00002.safetensors'), [f32('b', 2), f32('c', 2)]);
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00002-of-00002.safetensors', c: 'model-00002-of-00002.safetensors' } }));
    const checkpoint = openCheckpoint(dir);
    const calls: unknown[][] = [];
    const source = withReadProgress(checkpoint, (...args) => calls.push(args));
    expect(Array.from(source.readF32('b'))).toEqual([1, 1]);
    source.readRaw('a');
    source.readF32('c');
    checkpoint.close();
    expect(calls).toEqual([
      [8, 32, 'reading 2/2 model-00002-of-00002.safetensors', 'bytes'],
      [24, 32, 'reading 1/2 model-00001-of-00002.safetensors', 'bytes'],
      [32, 32, 'reading 2/2 model-00002-of-00002.safetensors', 'bytes'],
    ]);
  });

  it('one file: its name; no callback: the source unchanged', () => {
    const file = join(dir, 'single.safetensors');
    writeSafetensors(file, [f32('w', 3)]);
    const checkpoint = openCheckpoint(file);
    expect(withReadProgress(checkpoint, undefined)).toBe(checkpoint);
    const calls: unknown[][] = [];
    withReadProgress(checkpoint, (...args) => calls.push(args)).readF32('w');
    checkpoint.close();
    expect(calls).toEqual([[12, 12, 'reading single.safetensors', 'bytes']]);
    expect(readLabel([], undefined)).toBe('reading weights');
  });
});
