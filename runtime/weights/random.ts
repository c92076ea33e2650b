// Seeded random weights for specs without a checkpoint: normal(0, std) from a reproducible generator, norm
// weights at one, so a tiny configuration of any spec can run anywhere with the same numbers.
import type { Param } from '../../compiler/ir/types.ts';
import { mulberry32 } from '../../compiler/ir/hash.ts';
import type { BoundParam } from './bind.ts';

export function randomWeights(params: readonly Param[], seed = 0, std = 0.02): Map<string, BoundParam> {
  const rand = mulberry32(seed);
  // Box–Muller from the uniform generator.
  const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const out = new Map<string, BoundParam>();
  for (const p of params) {
    const shape = p.type.shape.map((d) => {
      if (typeof d !== 'number') throw new Error(`parameter @${p.name} has a symbolic shape`);
      return d;
    });
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    const isNormWeight = /norm\.weight$/.test(p.name);
    for (let i = 0; i < data.length; i++) data[i] = isNormWeight ? 1 + 0.1 * normal() : std * normal();
    out.set(p.name, { shape, data });
  }
  return out;
}
