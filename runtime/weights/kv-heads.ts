// Uptraining a multi-head checkpoint to grouped-query attention, GQA (Ainslie et al. 2023) §2.1: every attention's key
// and value projections go from kv_heads to n heads, each new head the mean of the kv_heads / n consecutive heads of
// its group (runtime/weights/pool-heads.ts); every other tensor is copied as it is. n = 1 is multi-query attention.
import type { AttentionSpec, LayerSpec, ModelSpec } from '../../compiler/spec/types.ts';
import { FLOAT_DTYPES, fromFloat32, type FloatDType } from '../safetensors/encode.ts';
import { formatShape, WeightsError, type TensorSource } from '../safetensors/index.ts';
import type { RawTensorToWrite } from '../safetensors/writer.ts';
import { resolveName, type NameMapping } from './bind.ts';
import { poolHeads } from './pool-heads.ts';

/** A spec that cannot be converted, or a bad --kv-heads: one line for the user. */
export class ConvertError extends Error {
  override name = 'ConvertError';
}

/** One moec parameter whose first axis is kv_heads heads, to be pooled to n. */
export interface PooledParam {
  /** The moec parameter name (`decoder.3.attn.k.weight`). */
  param: string;
  /** Its shape with kv_heads heads, as lowering gives it and the checkpoint must hold it. */
  shape: number[];
  heads: number;
  /** 'projection' (a k or v weight or bias) or 'norm' (a QK-norm gain over the whole key projection). */
  kind: 'projection' | 'norm';
}

/** Where lowering puts each attention's parameters (compiler/lower/block.ts), with its spec. */
function attentions(spec: ModelSpec): { prefix: string; a: NonNullable<LayerSpec['attention']> }[] {
  const out: { prefix: string; a: NonNullable<LayerSpec['attention']> }[] = [];
  for (const stack of [spec.encoder, spec.decoder]) {
    for (const layer of stack?.layers ?? []) {
      if (layer.attention) out.push({ prefix: `${stack!.name}.${layer.index}.attn`, a: layer.attention });
      if (layer.crossAttention) out.push({ prefix: `${stack!.name}.${layer.index}.cross`, a: layer.crossAttention });
    }
  }
  return out;
}

/** The parameters of one attention that hold kv_heads heads (compiler/lower/attention.ts). */
function kvParams(prefix: string, a: AttentionSpec, dModel: number): PooledParam[] {
  const width = a.kvHeads * a.headDim;
  const out: PooledParam[] = [];
  for (const p of ['k', 'v']) {
    out.push({ param: `${prefix}.${p}.weight`, shape: [width, dModel], heads: a.kvHeads, kind: 'projection' });
    if (a.qkvBias) out.push({ param: `${prefix}.${p}.bias`, shape: [width], heads: a.kvHeads, kind: 'projection' });
  }
  // A norm over the whole key projection has a gain per key channel; the paper has no QK-norm, and pooling the
  // gains like the projections keeps them one per channel of the pooled heads.
  if (a.qkNorm?.scope === 'full') {
    out.push({ param: `${prefix}.k_norm.weight`, shape: [width], heads: a.kvHeads, kind: 'norm' });
    if (a.qkNorm.norm.kind === 'layernorm' && a.qkNorm.norm.bias) out.push({ param: `${prefix}.k_norm.bias`, shape: [width], heads: a.kvHeads, kind: 'norm' });
  }
  return out;
}

/** The parameters to pool for n key/value heads; every attention whose kv_heads differ from n, checked. */
export function kvHeadsPlan(spec: ModelSpec, n: number): PooledParam[] {
  if (!Number.isInteger(n) || n < 1) throw new ConvertError(`--kv-heads must be a positive integer, got ${n}`);
  const all = attentions(spec);
  const mla = all.find(({ a }) => a.kind === 'mla');
  if (mla) throw new ConvertError(`${mla.prefix} is multi-head latent attention (mla): its keys and values come from one shared latent, there are no key/value heads to pool`);
  // Token mixing without keys and values (fourier) has nothing to pool.
  if (!all.some(({ a }) => a.kind === 'attention')) throw new ConvertError(`model ${spec.name} has no attention with key/value heads to convert`);
  const plan: PooledParam[] = [];
  for (const { prefix, a } of all) {
    if (a.kind !== 'attention') continue;
    if (a.kvHeads === n) continue;
    if (a.kvHeads % n !== 0) throw new ConvertError(`--kv-heads ${n} must divide the kv_heads (${a.kvHeads}) of ${prefix}`);
    plan.push(...kvParams(prefix, a, spec.dModel));
  }
  return plan;
}

/** The checkpoint tensor holding a moec parameter, through the spec's name map; fused (chunked) tensors refused. */
function tensorOf(param: string, mappings: readonly NameMapping[]): string {
  const r = resolveName(param, mappings);
  if (!r) return param;
  if (r.chunk) {
    throw new ConvertError(`${param} is chunk ${r.chunk.index} of ${r.chunk.of} of the fused tensor '${r.tensor}': --kv-heads cannot pool a fused projection (its parts would no longer be equal chunks); unfuse the checkpoint first`);
  }
  if (r.perExpert) throw new ConvertError(`${param} maps to per-expert tensors '${r.tensor}': --kv-heads pools attention projections only`);
  return r.tensor;
}

/**
 * The converted checkpoint, tensor by tensor, read lazily (for writeSafetensors): the plan's tensors pooled from kv_heads
 * to n heads in float32 and rounded back to their dtype, the others as stored. Checks every pooled tensor first
 * (present, the spec's shape, f32/f16/bf16), so nothing is written for a checkpoint that does not fit the spec.
 */
export function convertKvHeads(source: TensorSource, file: string, plan: readonly PooledParam[], mappings: readonly NameMapping[], n: number): RawTensorToWrite[] {
  const pooled = new Map<string, PooledParam>();
  for (const p of plan) {
    const name = tensorOf(p.param, mappings);
    const info = source.tensors.get(name);
    // Worded as runtime/weights/bind.ts words a weight that does not fit the spec.
    const fail = (message: string) => new WeightsError(file, `tensor '${name}'${name === p.param ? '' : ` (for @${p.param})`}: ${message}`, { tensor: name });
    if (!info) throw fail(`expected shape ${formatShape(p.shape)} but the checkpoint does not have it`);
    if (info.shape.length !== p.shape.length || info.shape.some((d, i) => d !== p.shape[i])) {
      throw fail(`expected shape ${formatShape(p.shape)} but the checkpoint has ${formatShape(info.shape)}`);
    }
    if (!(FLOAT_DTYPES as readonly string[]).includes(info.dtype)) throw fail(`dtype ${info.dtype}: --kv-heads pools ${FLOAT_DTYPES.join(', ')} tensors`);
    pooled.set(name, p);
  }
  return [...source.tensors].map(([name, info]): RawTensorToWrite => {
    const p = pooled.get(name);
    if (!p) return { name, dtype: info.dtype, shape: info.shape, read: () => source.readRaw(name) };
    const shape = [(p.shape[0]! / p.heads) * n, ...p.shape.slice(1)];
    return { name, dtype: info.dtype, shape, read: () => fromFloat32(info.dtype as FloatDType, poolHeads(source.readF32(name), p.heads, n)) };
  });
}
