// Renders kernel-IR loop nests as WGSL compute shaders: one shader per kernel from the handlebars template in
// templates.ts. The kernel's outer chain of parallel loops becomes the grid (one invocation per iteration, the flat
// invocation index decoded into the loop variables); everything inside runs as written in each invocation.
// Buffers are storage arrays in binding order; the run-time sizes are a uniform.
import Handlebars from 'handlebars';
import type { Expr, Kernel, KernelProgram, ScalarType } from '../../compiler/kernel/ir.ts';
import { cStyleRenderer, local, type Spelling } from '../../codegen/c-style.ts';
import { halfWeightBuffers } from '../../codegen/half-weights.ts';
import { fusable, renderAttention } from './attention.ts';
import { renderDispatch } from './dispatch.ts';
import { renderGemm } from './gemm.ts';
import { kernelTemplate } from './templates.ts';
import { programSizes } from '../../compiler/kernel/sizes.ts';

export const workgroupSize = 64;

const template = Handlebars.compile(kernelTemplate, { noEscape: true, strict: true });

const wgslType = (t: ScalarType) => (t === 'f32' ? 'f32' : t === 'bool' ? 'bool' : 'i32');

function float(v: number): string {
  // WGSL's constant evaluation rejects infinities and NaN: the loop nests use ±∞ only as the start of a max or min,
  // where the largest finite value behaves the same.
  if (v === Infinity) return '3.4028234663852886e38f';
  if (v === -Infinity) return '-3.4028234663852886e38f';
  if (Number.isNaN(v)) throw new Error('a NaN constant cannot be written in WGSL');
  const s = String(Math.fround(v));
  return `${s}${/[.e]/.test(s) ? '' : '.0'}f`.replace(/^(-?)(\d+)e/, '$1$2.0e');
}

/** One shader and how it is launched. */
export interface WgslPass {
  code: string;
  /** Grid loop extents (evaluate with evalExtent); the dispatch covers their product. */
  grid: Expr[];
  /** Workgroup counts [x, y, z] instead, for kernels with a grid of their own (the tiled matmul). */
  dispatch?: Expr[];
  /** Runs only where this evaluates to non-zero at the run's sizes (variants of a kernel for different sizes). */
  when?: Expr;
}

export interface WgslKernel extends WgslPass {
  name: string;
  /** Passes that run after this one on the same bindings: a kernel that needs a grid-wide barrier (the dispatch). */
  next?: WgslPass[];
}

/**
 * Weights stored as f16 (half the memory and bandwidth; computed in f32): `array<f16>` where the adapter has
 * shader-f16, else pairs packed in `array<u32>` and read with unpack2x16float, which every adapter has.
 */
export interface HalfWeights {
  buffers: ReadonlySet<string>;
  native: boolean;
}

/** WGSL's spellings for the shared C-like renderer; `uses.erf` records a use of the erf helper (WGSL has none). */
function wgslSpelling(uses: { erf: boolean }, half?: HalfWeights): Spelling {
  return {
    element: (buffer, id, index) => {
      if (!half?.buffers.has(buffer)) return undefined;
      return half.native ? `f32(${id}[${index}])` : `unpack2x16float(${id}[(${index}) >> 1u])[(${index}) & 1i]`;
    },
    type: wgslType,
    literal: (v, t) => (t === 'f32' ? float(v) : t === 'bool' ? String(v !== 0) : `${v}i`),
    size: (i) => `sizes.v[${i >> 2}][${i & 3}]`,
    convert: (code, t) => `${wgslType(t)}(${code})`,
    select: (cond, a, b) => `select(${b}, ${a}, ${cond})`,
    unary: (op, a) => {
      if (op === 'rsqrt') return `inverseSqrt(${a})`;
      if (op !== 'erf') return `${op}(${a})`;
      uses.erf = true;
      return `erf_(${a})`;
    },
    neg: (a) => `(-${a})`,
    binary: (op, a, b) => (op === 'min' || op === 'max' ? `${op}(${a}, ${b})` : `(${a} ${op} ${b})`),
    constant: (name, _t, value) => `let ${name} = ${value};`,
    variable: (name, _t, value) => `var ${name} = ${value};`,
  };
}

/**
 * Renders kernel-IR expressions as WGSL for a kernel's buffers and sizes; `uses.erf` records the helper's use, and
 * `declarations` gives the header's buffer declarations (f16 weights as stored).
 */
export function exprRenderer(k: Kernel, sizes: string[], half?: HalfWeights) {
  const uses = { erf: false };
  const r = cStyleRenderer(k, sizes, wgslSpelling(uses, half));
  const stored = (name: string) => (half?.buffers.has(name) ? (half.native ? 'f16' : 'u32') : r.bufferType.get(name));
  const buffers = k.buffers.map((b) => ({ id: r.bufferId.get(b.name), type: stored(b.name), access: b.access === 'read' ? 'read' : 'read_write' }));
  /** What every template's header takes: the buffers, the sizes uniform, the helpers and directives used. */
  const header = () => ({
    buffers, erf: uses.erf, f16: buffers.some((b) => b.type === 'f16'),
    sizesBinding: k.buffers.length, sizeVecs: Math.max(1, Math.ceil(sizes.length / 4)),
  });
  return { ...r, uses, header };
}

export { local };

export function renderKernel(k: Kernel, sizes: string[], half?: HalfWeights): WgslKernel {
  const { threadBody, header, locals } = exprRenderer(k, sizes, half);
  const { lines, grid } = threadBody();
  const code = template({
    ...header(),
    name: k.name, loc: k.loc ?? '', ops: k.ops.join(', '), workgroupSize,
    locals: [...locals].map(([name, type]) => ({ id: local(name), type: wgslType(type) })),
    body: lines.join('\n'),
  });
  return { name: k.name, code, grid };
}

export interface WgslProgram {
  kernels: WgslKernel[];
  sizes: string[];
  /** Parameter buffers stored as f16 (uploaded converted), and whether as `array<f16>` or packed in u32 pairs. */
  half?: { buffers: string[]; native: boolean };
}

export interface RenderOptions {
  /** The tiled matmul for gemm kernels (default), or their loop nests. */
  tiled?: boolean;
  /** Optional features the adapter offers ('subgroups', 'shader-f16'): shaders use them where they help. */
  features?: readonly string[];
  /** Matrix weights stored as f16 (routers stay f32, Switch's selective precision). */
  halfWeights?: boolean;
}

export function renderProgram(p: KernelProgram, options: RenderOptions = {}): WgslProgram {
  const sizes = programSizes(p);
  const features = options.features ?? [];
  const half = options.halfWeights ? { buffers: halfWeightBuffers(p), native: features.includes('shader-f16') } : undefined;
  const render = (k: Kernel): WgslKernel => {
    if (k.gemm && options.tiled !== false) return renderGemm(k, k.gemm, sizes, half);
    if (k.dispatch) return renderDispatch(k, k.dispatch, sizes, half);
    if (k.attention && fusable(k.attention)) return renderAttention(k, k.attention, sizes, { subgroups: features.includes('subgroups'), half });
    return renderKernel(k, sizes, half);
  };
  return { kernels: p.kernels.map(render), sizes, ...(half ? { half: { buffers: [...half.buffers], native: half.native } } : {}) };
}
