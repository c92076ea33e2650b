// Binds a graph's parameters to checkpoint tensors through the spec's name map: renames, per-expert tensors
// stacked into one [experts, …] parameter, chunks of fused tensors; every mismatch named with both shapes.
import type { Param } from '../../compiler/ir/types.ts';
import { formatShape, WeightsError, type TensorSource } from '../safetensors/index.ts';
import { nonFiniteProblem } from './finite.ts';

/** One entry of a checkpoint name map (the spec's `checkpoint.tensors`). */
export interface NameMapping {
  from: string;
  to: string;
  chunk?: { index: number; of: number; axis: number };
}

export interface BoundParam {
  shape: number[];
  data: Float32Array;
}

const floatDtypes = new Set(['F32', 'F16', 'BF16', 'F64', 'F8_E4M3', 'F8_E5M2']);

function patternRegex(from: string): RegExp {
  const escaped = from.replace(/[.*+?^$()[\]\\|]/g, '\\$&').replace('\\{layer\\}', '(?<layer>\\d+)').replace(/\{layer\}/g, '(?<layer>\\d+)');
  return new RegExp(`^${escaped}$`);
}

interface Resolved {
  tensor: string;
  perExpert: boolean;
  chunk?: NameMapping['chunk'];
}

export function resolveName(param: string, mappings: readonly NameMapping[]): Resolved | undefined {
  for (const m of mappings) {
    const match = patternRegex(m.from).exec(param);
    if (!match) continue;
    const tensor = m.to.replace(/\{layer\}/g, match.groups?.layer ?? '');
    return { tensor, perExpert: tensor.includes('{expert}'), chunk: m.chunk };
  }
  return undefined;
}

function shapeEq(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Elements `index` of `of` equal chunks along `axis` of a row-major tensor. */
function takeChunk(data: Float32Array, shape: number[], axis: number, index: number, of: number): { data: Float32Array; shape: number[] } {
  const outer = shape.slice(0, axis).reduce((p, q) => p * q, 1);
  const inner = shape.slice(axis + 1).reduce((p, q) => p * q, 1);
  const part = shape[axis]! / of;
  const out = new Float32Array(outer * part * inner);
  for (let o = 0; o < outer; o++) {
    const src = (o * shape[axis]! + index * part) * inner;
    out.set(data.subarray(src, src + part * inner), o * part * inner);
  }
  const s = [...shape];
  s[axis] = part;
  return { data: out, shape: s };
}

export function bindWeights(params: readonly Param[], mappings: readonly NameMapping[], source: TensorSource, file: string): Map<string, BoundParam> {
  const bound = new Map<string, BoundParam>();
  const used = new Set<string>();
  const problems: string[] = [];
  const read = (name: string): { data: Float32Array; shape: number[] } | undefined => {
    const info = source.tensors.get(name);
    if (!info) return undefined;
    used.add(name);
    // Weights are floating point; an integer or boolean tensor under a weight's name is a wrong file, not data to convert.
    if (!floatDtypes.has(info.dtype)) {
      problems.push(`tensor '${name}': dtype ${info.dtype} where a floating-point weight is expected (${[...floatDtypes].join(', ')})`);
      return { data: new Float32Array(info.shape.reduce((a, b) => a * b, 1)), shape: info.shape };
    }
    const data = source.readF32(name);
    const bad = nonFiniteProblem(name, data, info.shape);
    if (bad) problems.push(bad);
    return { data, shape: info.shape };
  };

  for (const p of params) {
    const shape = p.type.shape.map((d) => {
      if (typeof d !== 'number') throw new Error(`parameter @${p.name} has a symbolic shape`);
      return d;
    });
    const r = resolveName(p.name, mappings) ?? { tensor: p.name, perExpert: false };
    let value: { data: Float32Array; shape: number[] } | undefined;
    if (r.perExpert) {
      const experts = shape[0]!;
      const each = shape.slice(1);
      const n = each.reduce((a, b) => a * b, 1);
      const data = new Float32Array(experts * n);
      let missing = false;
      for (let e = 0; e < experts; e++) {
        const name = r.tensor.replace(/\{expert\}/g, String(e));
        const t = read(name);
        if (!t) {
          problems.push(`tensor '${name}' (expert ${e} of @${p.name}): expected shape ${formatShape(each)} but the checkpoint does not have it`);
          missing = true;
          break;
        }
        if (!shapeEq(t.shape, each)) {
          problems.push(`tensor '${name}' (expert ${e} of @${p.name}): expected shape ${formatShape(each)} but the checkpoint has ${formatShape(t.shape)}`);
          missing = true;
          break;
        }
        data.set(t.data, e * n);
      }
      if (!missing) value = { data, shape };
    } else {
      const t = read(r.tensor);
      if (!t) {
        problems.push(`tensor '${r.tensor}' (for @${p.name}): expected shape ${formatShape(shape)} but the checkpoint does not have it`);
        continue;
      }
      value = t;
      if (r.chunk) {
        const { axis, index, of } = r.chunk;
        if (axis >= t.shape.length || t.shape[axis]! % of !== 0) {
          problems.push(`tensor '${r.tensor}' (for @${p.name}): shape ${formatShape(t.shape)} cannot be cut into ${of} chunks along axis ${axis}`);
          continue;
        }
        value = takeChunk(t.data, t.shape, axis, index, of);
      }
      if (!shapeEq(value.shape, shape)) {
        problems.push(`tensor '${r.tensor}' (for @${p.name}): expected shape ${formatShape(shape)} but the checkpoint has ${formatShape(value.shape)}`);
        continue;
      }
    }
    if (value) bound.set(p.name, { shape, data: value.data });
  }
  const extra = [...source.tensors.keys()].filter((n) => !used.has(n));
  if (extra.length > 0) {
    const list = extra.slice(0, 5).map((n) => `'${n}' ${formatShape(source.tensors.get(n)!.shape)}`).join(', ');
    problems.push(`${extra.length} tensor${extra.length === 1 ? '' : 's'} in the checkpoint ${extra.length === 1 ? 'is' : 'are'} not used by the spec: ${list}${extra.length > 5 ? ', …' : ''}`);
  }
  if (problems.length > 0) {
    throw new WeightsError(file, problems.length === 1 ? problems[0]! : `${problems.length} problems:\n  ${problems.slice(0, 12).join('\n  ')}${problems.length > 12 ? `\n  … and ${problems.length - 12} more` : ''}`);
  }
  return bound;
}
