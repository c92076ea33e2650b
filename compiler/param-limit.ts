// Parameter counts past 2^53 are not exact in a double: such a spec (a dimension or an expert count off by orders of
// magnitude) is refused at check time, at the model, instead of overflowing in stats or at run time.
import { error, type Diagnostic } from '../dsl/diagnostics.ts';
import { lowerModel } from './lower/model.ts';
import type { ModelSpec } from './spec/types.ts';

export const MAX_PARAMS = 2n ** 53n;

const group = (n: bigint) => n.toLocaleString('en-US');

/** A diagnostic at the model when its parameters, counted exactly (BigInt), reach 2^53; undefined otherwise. */
export function paramCountDiagnostic(model: ModelSpec): Diagnostic | undefined {
  let params;
  try {
    params = lowerModel(model).params;
  } catch {
    return undefined; // a spec the lowering refuses is reported where it is lowered
  }
  let total = 0n;
  let largest = { name: '', n: 0n };
  for (const p of params) {
    if (!p.type.shape.every((d) => typeof d === 'number' && Number.isInteger(d))) continue;
    const n = p.type.shape.reduce<bigint>((a, d) => a * BigInt(d as number), 1n);
    total += n;
    if (n > largest.n) largest = { name: p.name, n };
  }
  if (total < MAX_PARAMS) return undefined;
  return error(
    `model ${model.name} has ${group(total)} parameters (@${largest.name} alone has ${group(largest.n)}); moec counts parameters exactly only below 2^53 (${group(MAX_PARAMS)})`,
    model.span,
    'a dimension or an expert count is likely off by orders of magnitude',
  );
}
