// The machine's peak for wasm SIMD on one core: 8 to 12 independent f32x4 multiply-add chains in registers, no memory
// traffic (what a matmul's register tile can reach at best). Both instruction sets: mul + add, and relaxed FMA.
import binaryen from 'binaryen';
import { relaxedSimdSupported } from '../../runtime/wasm/features.ts';

type Ternary = { _BinaryenSIMDTernary: (...x: number[]) => number; RelaxedMaddVecF32x4: number };

function peakModule(fma: boolean, chains: number): Uint8Array {
  const m = new binaryen.Module();
  m.setFeatures(binaryen.Features.MVP | binaryen.Features.SIMD128 | (fma ? binaryen.Features.RelaxedSIMD : 0));
  const v = binaryen.v128;
  // locals: 0 = iterations (param), 1 … chains = accumulators, chains + 1 = the multiplier
  const g = (i: number) => m.local.get(i, v);
  const b = () => g(chains + 1);
  const n = () => m.local.get(0, binaryen.i32);
  const madd = (acc: number) => (fma ? (binaryen as unknown as Ternary)._BinaryenSIMDTernary(m.ptr, (binaryen as unknown as Ternary).RelaxedMaddVecF32x4, g(acc), b(), g(acc)) : m.f32x4.add(m.f32x4.mul(g(acc), b()), g(acc)));
  const accs = Array.from({ length: chains }, (_, c) => c + 1);
  let sum = g(1);
  for (const a of accs.slice(1)) sum = m.f32x4.add(sum, g(a));
  const body = m.block(null, [
    ...accs.map((a) => m.local.set(a, m.f32x4.splat(m.f32.const(1 + a / 100)))),
    m.local.set(chains + 1, m.f32x4.splat(m.f32.const(0.999999))),
    m.block('done', [m.loop('again', m.block(null, [m.br('done', m.i32.eqz(n())), ...accs.map((a) => m.local.set(a, madd(a))), m.local.set(0, m.i32.sub(n(), m.i32.const(1))), m.br('again')]))]),
    m.return(m.f32x4.extract_lane(sum, 0)),
  ]);
  m.addFunction('peak', binaryen.createType([binaryen.i32]), binaryen.f32, Array.from({ length: chains + 1 }, () => v), body);
  m.addFunctionExport('peak', 'peak');
  const bytes = m.emitBinary();
  m.dispose();
  return bytes;
}

/** GFLOP/s of the best of several runs, for mul + add and (where the engine has it) relaxed FMA. */
export function measurePeak(): { mulAdd: number; fma?: number } {
  const run = (fma: boolean) => Math.max(...[8, 10, 12].map((chains) => runChains(fma, chains)));
  const runChains = (fma: boolean, chains: number) => {
    const inst = new WebAssembly.Instance(new WebAssembly.Module(new Uint8Array(peakModule(fma, chains))));
    const peak = inst.exports.peak as (n: number) => number;
    const iters = 20_000_000;
    peak(1000);
    let best = Infinity;
    for (let r = 0; r < 5; r++) {
      const t = performance.now();
      peak(iters);
      best = Math.min(best, performance.now() - t);
    }
    return (iters * chains * 4 * 2) / (best / 1000) / 1e9;
  };
  return relaxedSimdSupported() ? { mulAdd: run(false), fma: run(true) } : { mulAdd: run(false) };
}
