import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { describeSystemError, WeightsError } from './errors.ts';
import { decodeJsonObject, describeJsonValue, MAX_HEADER_BYTES } from './header.ts';
import { findDuplicateKey } from './json-keys.ts';

/** The Hugging Face name for the index of a sharded checkpoint. */
export const INDEX_FILE_NAME = 'model.safetensors.index.json';

export interface ShardIndex {
  path: string;
  /** The index's own "metadata" (e.g. total_size); free-form, unlike a shard's __metadata__. */
  metadata: Record<string, unknown>;
  /** Tensor name to the absolute path of the shard holding it, in the index's order. */
  weightMap: Map<string, string>;
}

/**
 * Reads and validates model.safetensors.index.json. Shard names are checked to
 * exist and to stay inside the checkpoint directory, because an index is as
 * untrusted as any downloaded file.
 */
export function readShardIndex(indexPath: string): ShardIndex {
  let bytes: Uint8Array;
  try {
    const size = fs.statSync(indexPath).size;
    // The index is plain JSON read whole, so cap it like a safetensors header.
    if (size > MAX_HEADER_BYTES) {
      throw new WeightsError(indexPath, `index is ${size} bytes, over the limit of ${MAX_HEADER_BYTES} bytes (100 MB)`);
    }
    bytes = fs.readFileSync(indexPath);
  } catch (error) {
    if (error instanceof WeightsError) throw error;
    throw new WeightsError(indexPath, `cannot read: ${describeSystemError(error)}`, { cause: error });
  }
  const { text, value } = decodeJsonObject(indexPath, bytes, 'index');

  const duplicate = findDuplicateKey(text);
  if (duplicate !== undefined) {
    const where = duplicate.path.length === 0 ? 'the index' : `'${duplicate.path.join('.')}'`;
    throw new WeightsError(indexPath, `key '${duplicate.key}' appears more than once in ${where}`);
  }

  const rawMap = value.weight_map;
  if (typeof rawMap !== 'object' || rawMap === null || Array.isArray(rawMap)) {
    throw new WeightsError(indexPath, `weight_map must be an object mapping tensor names to shard files, but it is ${rawMap === undefined ? 'missing' : describeJsonValue(rawMap)}`);
  }
  const rawMetadata = value.metadata;
  const metadata =
    typeof rawMetadata === 'object' && rawMetadata !== null && !Array.isArray(rawMetadata)
      ? (rawMetadata as Record<string, unknown>)
      : {};

  const directory = nodePath.dirname(nodePath.resolve(indexPath));
  const weightMap = new Map<string, string>();
  const checked = new Set<string>();
  for (const [tensor, shard] of Object.entries(rawMap)) {
    if (typeof shard !== 'string' || shard === '') {
      throw new WeightsError(indexPath, `weight_map entry for tensor '${tensor}' must be a shard file name, but it is ${describeJsonValue(shard)}`, { tensor });
    }
    const shardPath = nodePath.resolve(directory, shard);
    if (!checked.has(shardPath)) {
      const relative = nodePath.relative(directory, shardPath);
      if (nodePath.isAbsolute(shard) || relative === '..' || relative.startsWith(`..${nodePath.sep}`)) {
        throw new WeightsError(indexPath, `tensor '${tensor}' is mapped to shard '${shard}', which is outside the checkpoint directory ${directory}`, { tensor });
      }
      if (!fs.existsSync(shardPath)) {
        throw new WeightsError(indexPath, `tensor '${tensor}' is mapped to shard '${shard}', which does not exist in ${directory}`, { tensor });
      }
      checked.add(shardPath);
    }
    weightMap.set(tensor, shardPath);
  }
  return { path: indexPath, metadata, weightMap };
}
