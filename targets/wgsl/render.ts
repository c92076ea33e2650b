// Renders kernel-IR loop nests as WGSL compute shaders: one shader per kernel from the handlebars template in
// templates.ts. The kernel's outer chain of parallel loops becomes the grid (one invocation per iteration, the flat
// invocation index decoded into the loop variables); everything inside runs as written in each invocation.
// Buffers are storage arrays in binding order; the run-time sizes are a uniform.
import Handlebars from 'handlebars';
import type { Expr, Kernel, KernelProgram, ScalarType, Stmt } from '../../compiler/kernel/ir.ts';
import { renderGemm } from './gemm.ts';
import { kernelTemplate } from './templates.ts';
import { programSizes } from '../../compiler/kernel/sizes.ts';

export const workgroupSize = 64;

const template = Handlebars.compile(kernelTemplate, { noEscape: true, strict: true });

/** The loops of a kernel's grid: the outer chain of parallel loops whose extents the host can evaluate. */
export function gridLoops(k: Kernel): { loops: { var: string; extent: Expr }[]; body: Stmt[] } {
  const loops: { var: string; extent: Expr }[] = [];
  let body = k.body;
  const hostEvaluable = (e: Expr): boolean => e.k === 'const' || e.k === 'size' || (e.k === 'bin' && hostEvaluable(e.a) && hostEvaluable(e.b));
  while (body.length === 1 && body[0]!.k === 'for' && body[0]!.parallel && hostEvaluable(body[0]!.extent)) {
    loops.push({ var: body[0]!.var, extent: body[0]!.extent });
    body = body[0]!.body;
  }
  return { loops, body };
}

/** Evaluates a host-evaluable extent at concrete sizes. */
export function evalExtent(e: Expr, sizes: Record<string, number>): number {
  if (e.k === 'const') return e.value;
  if (e.k === 'size') {
    const v = sizes[e.name];
    if (v === undefined) throw new Error(`no size given for '${e.name}'`);
    return v;
  }
  if (e.k !== 'bin') throw new Error(`extent ${e.k} is not known on the host`);
  const a = evalExtent(e.a, sizes);
  const b = evalExtent(e.b, sizes);
  switch (e.op) {
    case '+': return a + b;
    case '-': return a - b;
    case '*': return a * b;
    case '/': return Math.trunc(a / b);
    case '%': return a % b;
    case 'min': return Math.min(a, b);
    case 'max': return Math.max(a, b);
    default: throw new Error(`extent operator ${e.op} is not known on the host`);
  }
}

const wgslType = (t: ScalarType) => (t === 'f32' ? 'f32' : t === 'bool' ? 'bool' : 'i32');
const isFloatBuffer = (dtype: string) => dtype === 'f32' || dtype === 'f16' || dtype === 'bf16';

function float(v: number): string {
  // WGSL's constant evaluation rejects infinities and NaN: the loop nests use ±∞ only as the start of a max or min,
  // where the largest finite value behaves the same.
  if (v === Infinity) return '3.4028234663852886e38f';
  if (v === -Infinity) return '-3.4028234663852886e38f';
  if (Number.isNaN(v)) throw new Error('a NaN constant cannot be written in WGSL');
  const s = String(Math.fround(v));
  return `${s}${/[.e]/.test(s) ? '' : '.0'}f`.replace(/^(-?)(\d+)e/, '$1$2.0e');
}

export interface WgslKernel {
  name: string;
  code: string;
  /** Grid loop extents (evaluate with evalExtent); the dispatch covers their product. */
  grid: Expr[];
  /** Workgroup counts [x, y, z] instead, for kernels with a grid of their own (the tiled matmul). */
  dispatch?: Expr[];
}

/** Renders kernel-IR expressions as WGSL for a kernel's buffers and sizes; `uses.erf` records the helper's use. */
export function exprRenderer(k: Kernel, sizes: string[]) {
  const bufferId = new Map(k.buffers.map((b, i) => [b.name, `b${i}`]));
  const bufferType = new Map(k.buffers.map((b) => [b.name, isFloatBuffer(b.dtype) ? 'f32' : 'i32']));
  const uses = { erf: false };
  const expr = (e: Expr): string => {
    switch (e.k) {
      case 'const': return e.type === 'f32' ? float(e.value) : e.type === 'bool' ? String(e.value !== 0) : `${e.value}i`;
      case 'var': return local(e.name);
      case 'size': {
        const i = sizes.indexOf(e.name);
        return `sizes.v[${i >> 2}][${i & 3}]`;
      }
      case 'load': {
        const id = bufferId.get(e.buffer);
        if (!id) throw new Error(`kernel ${k.name}: ${e.buffer} is not one of its buffers`);
        const v = `${id}[${expr(e.index)}]`;
        return bufferType.get(e.buffer) === wgslType(e.type) ? v : `${wgslType(e.type)}(${v})`;
      }
      case 'cast': return typeOf(e.a) === e.type ? expr(e.a) : `${wgslType(e.type)}(${expr(e.a)})`;
      case 'select': return `select(${expr(e.b)}, ${expr(e.a)}, ${expr(e.cond)})`;
      case 'addr': throw new Error(`kernel ${k.name}: addresses belong to the wasm target`);
      case 'un': {
        const a = expr(e.a);
        switch (e.op) {
          case 'neg': return `(-${a})`;
          case 'rsqrt': return `inverseSqrt(${a})`;
          case 'erf':
            uses.erf = true;
            return `erf_(${a})`;
          default: return `${e.op}(${a})`;
        }
      }
      case 'bin': {
        const a = expr(e.a);
        const b = expr(e.b);
        if (e.op === 'min' || e.op === 'max') return `${e.op}(${a}, ${b})`;
        return `(${a} ${e.op} ${b})`;
      }
    }
  };

  return { expr, uses, bufferId, bufferType, typeOf };
}

/** A kernel's local variable as a WGSL identifier. */
export const local = (name: string) => `l_${name.replace(/[^A-Za-z0-9_]/g, '_')}`;
const typeOf = (e: Expr): ScalarType => (e.k === 'size' ? 'i32' : e.type);

export function renderKernel(k: Kernel, sizes: string[]): WgslKernel {
  const locals = new Map<string, ScalarType>();
  let ids = 0;
  const { loops, body } = gridLoops(k);

  const { expr, uses, bufferId, bufferType } = exprRenderer(k, sizes);
  const stmts = (list: Stmt[], indent: string): string[] =>
    list.flatMap((s): string[] => {
      switch (s.k) {
        case 'let':
          locals.set(s.name, s.type);
          return [`${indent}${local(s.name)} = ${expr(s.value)};`];
        case 'set':
          return [`${indent}${local(s.name)} = ${expr(s.value)};`];
        case 'store': {
          const id = bufferId.get(s.buffer);
          if (!id) throw new Error(`kernel ${k.name}: ${s.buffer} is not one of its buffers`);
          const want = bufferType.get(s.buffer)!;
          const v = expr(s.value);
          return [`${indent}${id}[${expr(s.index)}] = ${typeOf(s.value) === want ? v : `${want}(${v})`};`];
        }
        case 'if':
          return [`${indent}if (${expr(s.cond)}) {`, ...stmts(s.then, `${indent}  `), `${indent}}`];
        case 'for': {
          locals.set(s.var, 'i32');
          const end = `end${ids++}`;
          const v = local(s.var);
          return [`${indent}{`, `${indent}  let ${end} = ${expr(s.extent)};`, `${indent}  for (${v} = 0i; ${v} < ${end}; ${v}++) {`, ...stmts(s.body, `${indent}    `), `${indent}  }`, `${indent}}`];
        }
        case 'call':
          throw new Error(`kernel ${k.name}: '${s.fn}' is an intrinsic of another target`);
      }
    });

  const lines: string[] = [];
  if (loops.length === 0) lines.push('  if (flat != 0i) { return; }');
  else {
    const total = loops.map((l) => `(${expr(l.extent)})`).join(' * ');
    lines.push(`  if (flat >= ${total}) { return; }`, '  var rest = flat;');
    for (let i = loops.length - 1; i >= 0; i--) {
      locals.set(loops[i]!.var, 'i32');
      const v = local(loops[i]!.var);
      if (i === 0) lines.push(`  ${v} = rest;`);
      else lines.push(`  ${v} = rest % (${expr(loops[i]!.extent)});`, `  rest = rest / (${expr(loops[i]!.extent)});`);
    }
  }
  lines.push(...stmts(body, '  '));
  const code = template({
    name: k.name, loc: k.loc ?? '', ops: k.ops.join(', '), workgroupSize, erf: uses.erf,
    buffers: k.buffers.map((b) => ({ id: bufferId.get(b.name), type: bufferType.get(b.name), access: b.access === 'read' ? 'read' : 'read_write' })),
    sizesBinding: k.buffers.length,
    sizeVecs: Math.max(1, Math.ceil(sizes.length / 4)),
    locals: [...locals].map(([name, type]) => ({ id: local(name), type: wgslType(type) })),
    body: lines.join('\n'),
  });
  return { name: k.name, code, grid: loops.map((l) => l.extent) };
}

export interface WgslProgram {
  kernels: WgslKernel[];
  sizes: string[];
}

export function renderProgram(p: KernelProgram, options: { tiled?: boolean } = {}): WgslProgram {
  const sizes = programSizes(p);
  return { kernels: p.kernels.map((k) => (k.gemm && options.tiled !== false ? renderGemm(k, k.gemm, sizes) : renderKernel(k, sizes))), sizes };
}
