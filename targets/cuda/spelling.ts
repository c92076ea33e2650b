// CUDA C's spellings for the shared C-like renderer (codegen/c-style.ts): C types, float literals that read back as
// the same f32, and CUDA's math library for the intrinsics. Only functions NVRTC knows without a header are used,
// so the source nvcc compiles can go to NVRTC at run time unchanged.
import type { ScalarType, UnOp } from '../../compiler/kernel/ir.ts';
import type { Spelling } from '../../codegen/c-style.ts';

export const cudaType = (t: ScalarType) => (t === 'f32' ? 'float' : t === 'bool' ? 'bool' : 'int');

// ±∞ and NaN by their bit patterns: INFINITY and NAN are macros of math.h, which NVRTC does not include.
const infinity = '__int_as_float(0x7f800000)';

/** The shortest decimal that reads back as the f32 `f` (1e-5, not the f32's exact 0.000009999999747…). */
function shortestF32(f: number): string {
  for (let digits = 1; digits < 9; digits++) {
    const s = String(Number(f.toPrecision(digits)));
    if (Math.fround(Number(s)) === f) return s;
  }
  return String(f);
}

/** An f32 constant as a float literal that reads back as the same f32 (negative ones in parentheses). */
export function cudaFloat(v: number): string {
  if (Number.isNaN(v)) return '__int_as_float(0x7fffffff)';
  const f = Math.fround(v);
  if (f === Infinity) return infinity;
  if (f === -Infinity) return `(-${infinity})`;
  if (Object.is(f, -0)) return '(-0.0f)';
  const s = shortestF32(f);
  const t = `${s}${/[.e]/.test(s) ? '' : '.0'}f`;
  return f < 0 ? `(${t})` : t;
}

/** An i32 constant (INT_MIN as an expression: its digits alone would be a 64-bit literal). */
export function cudaInt(v: number): string {
  if (v === -2147483648) return '(-2147483647 - 1)';
  return v < 0 ? `(${v})` : String(v);
}

const floatFns: Record<Exclude<UnOp, 'neg'>, string> = {
  exp: 'expf', log: 'logf', sqrt: 'sqrtf', rsqrt: 'rsqrtf', tanh: 'tanhf', erf: 'erff', sin: 'sinf', cos: 'cosf', floor: 'floorf', abs: 'fabsf',
};

export const cudaSpelling: Spelling = {
  type: cudaType,
  literal: (v, t) => (t === 'f32' ? cudaFloat(v) : t === 'bool' ? String(v !== 0) : cudaInt(v)),
  // A target parameter ('#N') is a kernel argument of that name; the program's sizes are fields of `sizes`.
  size: (i, name) => (name.startsWith('#') ? name.slice(1) : `sizes.v[${i}]`),
  convert: (code, t) => `(${cudaType(t)})(${code})`,
  // Unlike WGSL's select, C's conditional evaluates only the chosen side, as the kernel interpreter does.
  select: (cond, a, b) => `(${cond} ? ${a} : ${b})`,
  unary: (op, a, t) => {
    if (t === 'f32') return `${floatFns[op]}(${a})`;
    if (op === 'abs') return `abs(${a})`;
    throw new Error(`${op} of ${t} has no CUDA spelling`);
  },
  neg: (a) => `(-${a})`,
  binary: (op, a, b, t) => {
    if (op === 'min' || op === 'max') return t === 'f32' ? `f${op}f(${a}, ${b})` : `${op}(${a}, ${b})`;
    if (op === '%' && t === 'f32') return `fmodf(${a}, ${b})`;
    return `(${a} ${op} ${b})`;
  },
  constant: (name, t, value) => `const ${cudaType(t)} ${name} = ${value};`,
  variable: (name, t, value) => `${cudaType(t)} ${name} = ${value};`,
};

/** The 16-bit float a bf16 or f16 program stores its matrices in. */
export type Half = 'bf16' | 'f16';

/**
 * The spellings of a bf16 (or f16) program: buffers in `bf16` (matrix weights and the activations only matmuls read,
 * stored as raw 16-bit words) read as the f32 they hold, by any kernel that reads them (a gemm's loop nest, or the
 * gather of an embedding tied to the output matrix), and are written rounded to nearest even.
 */
export function bf16Spelling(bf16: ReadonlySet<string>, half: Half = 'bf16'): Spelling {
  return {
    ...cudaSpelling,
    element: (buffer, id, index) => (bf16.has(buffer) ? `moec_${half}(${id}[${index}])` : undefined),
    stored: (buffer, value) => (bf16.has(buffer) ? `moec_to_${half}(${value})` : undefined),
  };
}
