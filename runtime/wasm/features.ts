// What the running engine's WebAssembly offers, tested by validating tiny modules (a runtime ships a kernel
// variant per feature level and picks one at load time).
import { createRequire } from 'node:module';

/** (func (param v128 v128 v128) (result v128) f32x4.relaxed_madd) */
const relaxedMadd = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 8, 1, 96, 3, 123, 123, 123, 1, 123, 3, 2, 1, 0, 10, 13, 1, 11, 0, 32, 0, 32, 1, 32, 2, 253, 133, 2, 11]);

let relaxed: boolean | undefined;

/**
 * Relaxed SIMD (f32x4.relaxed_madd, a fused multiply-add). Browsers ship it (Chrome 114+); Node 20's V8 has it
 * behind --experimental-wasm-relaxed-simd, which is switched on here before any module is compiled.
 */
export function relaxedSimdSupported(): boolean {
  if (relaxed !== undefined) return relaxed;
  if (!WebAssembly.validate(relaxedMadd) && typeof process !== 'undefined' && process.versions?.v8) {
    const v8 = createRequire(import.meta.url)('node:v8') as typeof import('node:v8');
    v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  }
  relaxed = WebAssembly.validate(relaxedMadd) && process.env.MOEC_WASM_NO_FMA === undefined;
  return relaxed;
}
