// Reading a checkpoint with progress: a TensorSource that reports bytes read against the checkpoint's total after
// each tensor, labelled with the file it came from (its number among a sharded checkpoint's shards).
import { basename } from 'node:path';
import type { OnProgress } from '../progress.ts';
import type { TensorSource } from '../safetensors/index.ts';

/** A source that can say which file holds a tensor (a Checkpoint: one file, or the shards of a sharded one). */
export interface FiledSource extends TensorSource {
  readonly files?: readonly string[];
  fileOf?(name: string): string;
}

/** The label of a read: `reading model.safetensors`, or `reading 2/3 model-00002-of-00003.safetensors` (shard 2 of 3). */
export function readLabel(files: readonly string[], file: string | undefined): string {
  if (file === undefined) return 'reading weights';
  const i = files.indexOf(file);
  return files.length > 1 && i >= 0 ? `reading ${i + 1}/${files.length} ${basename(file)}` : `reading ${basename(file)}`;
}

/** `source` itself without a callback; otherwise the same tensors, each read reported (in bytes, 'bytes' unit). */
export function withReadProgress(source: FiledSource, onProgress: OnProgress | undefined): TensorSource {
  if (!onProgress) return source;
  let total = 0;
  for (const t of source.tensors.values()) total += t.byteLength;
  let done = 0;
  const counted = <T>(name: string, read: () => T): T => {
    const value = read();
    done = Math.min(total, done + (source.tensors.get(name)?.byteLength ?? 0));
    onProgress(done, total, readLabel(source.files ?? [], source.fileOf?.(name)), 'bytes');
    return value;
  };
  return {
    tensors: source.tensors,
    metadata: source.metadata,
    readRaw: (name) => counted(name, () => source.readRaw(name)),
    readF32: (name) => counted(name, () => source.readF32(name)),
    close: () => source.close(),
  };
}
