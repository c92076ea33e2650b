import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { describeSystemError, WeightsError } from './errors.ts';
import type { TensorInfo } from './header.ts';
import type { TensorSource } from './reader.ts';
import { SafetensorsFile } from './reader.ts';
import { INDEX_FILE_NAME, readShardIndex } from './sharded.ts';

export const SINGLE_FILE_NAME = 'model.safetensors';

/** One tensor namespace over one or more safetensors files. */
export class Checkpoint implements TensorSource {
  /** The safetensors files, in the order they were opened. */
  readonly files: string[];
  /** The index file for a sharded checkpoint. */
  readonly indexPath: string | undefined;
  /** The index's free-form "metadata" (empty without an index). */
  readonly indexMetadata: Record<string, unknown>;
  readonly tensors: Map<string, TensorInfo>;
  /** The shards' __metadata__ merged; shards of one checkpoint normally agree. */
  readonly metadata: Record<string, string>;
  private readonly owners: Map<string, SafetensorsFile>;
  private readonly shards: SafetensorsFile[];

  constructor(
    shards: SafetensorsFile[],
    owners: Map<string, SafetensorsFile>,
    index?: { path: string; metadata: Record<string, unknown> },
  ) {
    this.shards = shards;
    this.owners = owners;
    this.files = shards.map((s) => s.path);
    this.indexPath = index?.path;
    this.indexMetadata = index?.metadata ?? {};
    this.metadata = Object.assign({}, ...shards.map((s) => s.metadata)) as Record<string, string>;
    this.tensors = new Map();
    for (const [name, shard] of owners) {
      const info = shard.tensors.get(name);
      if (info !== undefined) this.tensors.set(name, info);
    }
  }

  private owner(name: string): SafetensorsFile {
    const shard = this.owners.get(name);
    if (shard === undefined) {
      throw new WeightsError(this.indexPath ?? this.files[0], `there is no tensor named '${name}'`, { tensor: name });
    }
    return shard;
  }

  /** The path of the file holding a tensor (one of `files`). */
  fileOf(name: string): string {
    return this.owner(name).path;
  }

  readRaw(name: string): Uint8Array {
    return this.owner(name).readRaw(name);
  }

  readF32(name: string): Float32Array {
    return this.owner(name).readF32(name);
  }

  close(): void {
    for (const shard of this.shards) shard.close();
  }
}

function isFile(path: string): boolean {
  return fs.statSync(path, { throwIfNoEntry: false })?.isFile() ?? false;
}

/**
 * Opens a `.safetensors` file, an index.json, or a directory holding either
 * model.safetensors or model.safetensors.index.json (the single file wins when
 * both exist, as in Hugging Face transformers).
 */
export function openCheckpoint(pathOrDir: string): Checkpoint {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(pathOrDir);
  } catch (error) {
    throw new WeightsError(pathOrDir, `cannot open checkpoint: ${describeSystemError(error)}`, { cause: error });
  }
  if (stat.isDirectory()) {
    const single = nodePath.join(pathOrDir, SINGLE_FILE_NAME);
    if (isFile(single)) return openSingle(single);
    const index = nodePath.join(pathOrDir, INDEX_FILE_NAME);
    if (isFile(index)) return openSharded(index);
    throw new WeightsError(pathOrDir, `directory has neither ${SINGLE_FILE_NAME} nor ${INDEX_FILE_NAME}`);
  }
  if (pathOrDir.endsWith('.json')) return openSharded(pathOrDir);
  return openSingle(pathOrDir);
}

function openSingle(path: string): Checkpoint {
  const file = SafetensorsFile.open(path);
  const owners = new Map<string, SafetensorsFile>();
  for (const name of file.tensors.keys()) owners.set(name, file);
  return new Checkpoint([file], owners);
}

function openSharded(indexPath: string): Checkpoint {
  const index = readShardIndex(indexPath);
  const shards = new Map<string, SafetensorsFile>();
  try {
    const owners = new Map<string, SafetensorsFile>();
    for (const [tensor, shardPath] of index.weightMap) {
      let shard = shards.get(shardPath);
      if (shard === undefined) {
        shard = SafetensorsFile.open(shardPath);
        shards.set(shardPath, shard);
      }
      if (!shard.tensors.has(tensor)) {
        throw new WeightsError(
          indexPath,
          `tensor '${tensor}' is mapped to shard '${nodePath.relative(nodePath.dirname(nodePath.resolve(indexPath)), shardPath)}', but that shard has no such tensor`,
          { tensor },
        );
      }
      owners.set(tensor, shard);
    }
    return new Checkpoint([...shards.values()], owners, { path: indexPath, metadata: index.metadata });
  } catch (error) {
    // Shards opened before the failure would otherwise leak their descriptors.
    for (const shard of shards.values()) shard.close();
    throw error;
  }
}
