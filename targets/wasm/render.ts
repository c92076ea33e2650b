// Renders kernel-IR loop nests as WebAssembly through binaryen: one exported function per kernel, whose
// parameters are the byte addresses of its buffers in linear memory followed by the run-time sizes.
import binaryen from 'binaryen';
import type { Expr, Kernel, KernelProgram, ScalarType, Stmt } from '../../compiler/kernel/ir.ts';
import { programSizes } from '../../compiler/kernel/sizes.ts';
import type { OnProgress } from '../../runtime/progress.ts';
import { addGemm, type GemmConfig } from './gemm.ts';
import { threadParams } from './tensorize.ts';

/** Transcendentals wasm lacks are imported from the host as f64 → f64 (module "math"). */
export const mathImports = ['exp', 'log', 'tanh', 'erf', 'sin', 'cos'] as const;

const wasmType = (t: ScalarType) => (t === 'f32' ? binaryen.f32 : binaryen.i32);

function renderKernel(m: binaryen.Module, k: Kernel, sizes: string[]): void {
  const params = [...k.buffers.map((b) => b.name), ...[...sizes, ...(k.threads ? threadParams : [])].map((s) => `size:${s}`)];
  const locals = new Map<string, { index: number; type: ScalarType }>();
  params.forEach((p, index) => locals.set(p, { index, type: 'i32' }));
  const varTypes: number[] = [];
  const local = (name: string, type: ScalarType): number => {
    const l = locals.get(name);
    if (l) return l.index;
    const index = params.length + varTypes.length;
    varTypes.push(wasmType(type));
    locals.set(name, { index, type });
    return index;
  };
  let labels = 0;
  // '#scratch' is the calling thread's scratch memory (a threaded kernel's last parameter).
  const base = (buffer: string) => m.local.get(locals.get(buffer === '#scratch' ? 'size:#scratch' : buffer)!.index, binaryen.i32);
  const address = (buffer: string, index: Expr) => m.i32.add(base(buffer), m.i32.shl(expr(index), m.i32.const(2)));
  const typeOf = (e: Expr): ScalarType => (e.k === 'size' ? 'i32' : e.type);
  const math = (fn: string, a: binaryen.ExpressionRef) => m.f32.demote(m.call(`math.${fn}`, [m.f64.promote(a)], binaryen.f64));

  function expr(e: Expr): binaryen.ExpressionRef {
    switch (e.k) {
      case 'const':
        return e.type === 'f32' ? m.f32.const(e.value) : m.i32.const(e.value);
      case 'var': {
        const l = locals.get(e.name);
        if (!l) throw new Error(`kernel ${k.name}: ${e.name} is used before it is set`);
        return m.local.get(l.index, wasmType(l.type));
      }
      case 'size':
        return m.local.get(locals.get(`size:${e.name}`)!.index, binaryen.i32);
      case 'load':
        return e.type === 'f32' ? m.f32.load(0, 4, address(e.buffer, e.index)) : m.i32.load(0, 4, address(e.buffer, e.index));
      case 'addr':
        return address(e.buffer, e.index);
      case 'cast':
        if (e.type === typeOf(e.a)) return expr(e.a);
        return e.type === 'f32' ? m.f32.convert_s.i32(expr(e.a)) : m.i32.trunc_s_sat.f32(expr(e.a));
      case 'select':
        return m.select(expr(e.cond), expr(e.a), expr(e.b));
      case 'un': {
        const a = expr(e.a);
        if (typeOf(e.a) === 'i32') {
          if (e.op === 'neg') return m.i32.sub(m.i32.const(0), a);
          throw new Error(`kernel ${k.name}: ${e.op} of an integer`);
        }
        switch (e.op) {
          case 'neg': return m.f32.neg(a);
          case 'sqrt': return m.f32.sqrt(a);
          case 'rsqrt': return m.f32.div(m.f32.const(1), m.f32.sqrt(a));
          case 'floor': return m.f32.floor(a);
          case 'abs': return m.f32.abs(a);
          case 'exp': return m.call('expf', [a], binaryen.f32);
          default: return math(e.op, a);
        }
      }
      case 'bin': {
        const a = expr(e.a);
        const b = expr(e.b);
        const float = typeOf(e.a) === 'f32';
        switch (e.op) {
          case '+': return float ? m.f32.add(a, b) : m.i32.add(a, b);
          case '-': return float ? m.f32.sub(a, b) : m.i32.sub(a, b);
          case '*': return float ? m.f32.mul(a, b) : m.i32.mul(a, b);
          case '/': return float ? m.f32.div(a, b) : m.i32.div_s(a, b);
          case '%': return m.i32.rem_s(a, b);
          // binaryen expressions form a tree: a value used twice is built twice.
          case 'min': return float ? m.f32.min(a, b) : m.select(m.i32.lt_s(a, b), expr(e.a), expr(e.b));
          case 'max': return float ? m.f32.max(a, b) : m.select(m.i32.gt_s(a, b), expr(e.a), expr(e.b));
          case '<': return float ? m.f32.lt(a, b) : m.i32.lt_s(a, b);
          case '<=': return float ? m.f32.le(a, b) : m.i32.le_s(a, b);
          case '==': return float ? m.f32.eq(a, b) : m.i32.eq(a, b);
          case '!=': return float ? m.f32.ne(a, b) : m.i32.ne(a, b);
          case '&&': return m.i32.and(a, b);
          case '||': return m.i32.or(a, b);
        }
      }
    }
  }

  function stmts(list: Stmt[]): binaryen.ExpressionRef[] {
    return list.map((s) => {
      switch (s.k) {
        case 'let':
          return m.local.set(local(s.name, s.type), expr(s.value));
        case 'set': {
          const l = locals.get(s.name);
          if (!l) throw new Error(`kernel ${k.name}: ${s.name} is set before it is declared`);
          return m.local.set(l.index, expr(s.value));
        }
        case 'store': {
          const at = address(s.buffer, s.index);
          const buffer = s.buffer === '#scratch' ? { dtype: 'f32' } : k.buffers.find((b) => b.name === s.buffer)!;
          const float = buffer.dtype === 'f32' || buffer.dtype === 'f16' || buffer.dtype === 'bf16';
          const v = expr(s.value);
          return float ? m.f32.store(0, 4, at, typeOf(s.value) === 'f32' ? v : m.f32.convert_s.i32(v)) : m.i32.store(0, 4, at, typeOf(s.value) === 'i32' ? v : m.i32.trunc_s_sat.f32(v));
        }
        case 'if':
          return m.if(expr(s.cond), m.block(null, stmts(s.then)));
        case 'call':
          return m.call(s.fn, s.args.map(expr), binaryen.none);
        case 'for': {
          const id = labels++;
          const v = local(s.var, 'i32');
          const end = local(`end${id}`, 'i32');
          const exit = `exit${id}`;
          const again = `loop${id}`;
          return m.block(null, [
            m.local.set(end, expr(s.extent)),
            m.local.set(v, m.i32.const(0)),
            m.block(exit, [
              m.loop(again, m.block(null, [
                m.br(exit, m.i32.ge_s(m.local.get(v, binaryen.i32), m.local.get(end, binaryen.i32))),
                ...stmts(s.body),
                m.local.set(v, m.i32.add(m.local.get(v, binaryen.i32), m.i32.const(1))),
                m.br(again),
              ])),
            ]),
          ]);
        }
      }
    });
  }

  const body = m.block(null, stmts(k.body));
  m.addFunction(k.name, binaryen.createType(params.map(() => binaryen.i32)), binaryen.none, varTypes, body);
  m.addFunctionExport(k.name, k.name);
}

/**
 * expf in wasm (Cephes' polynomial after a Cody–Waite reduction by ln 2), about 1 ulp: softmax, SiLU and GELU call it
 * once per element, and a call into JavaScript would cost more than the whole polynomial.
 */
function addExp(m: binaryen.Module): void {
  const x = () => m.local.get(0, binaryen.f32);
  const n = () => m.local.get(1, binaryen.f32);
  const r = () => m.local.get(2, binaryen.f32);
  const c = (v: number) => m.f32.const(v);
  let poly = c(1.9875691500e-4);
  for (const k of [1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1]) poly = m.f32.add(m.f32.mul(poly, r()), c(k));
  // 2^n as (n - 1 + 127) << 23, times 2: n reaches 128 just below the overflow threshold.
  const scale = m.f32.reinterpret(m.i32.shl(m.i32.add(m.i32.trunc_s.f32(n()), m.i32.const(126)), m.i32.const(23)));
  const body = m.block(null, [
    m.if(m.f32.ne(x(), x()), m.return(x())),
    m.if(m.f32.lt(x(), c(-87.33654)), m.return(c(0))),
    m.if(m.f32.gt(x(), c(88.72283)), m.return(c(Infinity))),
    m.local.set(1, m.f32.nearest(m.f32.mul(x(), c(Math.LOG2E)))),
    m.local.set(2, m.f32.sub(m.f32.sub(x(), m.f32.mul(n(), c(0.693359375))), m.f32.mul(n(), c(-2.12194440e-4)))),
    m.return(m.f32.mul(m.f32.mul(m.f32.add(m.f32.add(m.f32.mul(poly, m.f32.mul(r(), r())), r()), c(1)), scale), c(2))),
  ]);
  m.addFunction('expf', binaryen.createType([binaryen.f32]), binaryen.f32, [binaryen.f32, binaryen.f32], body);
}

export interface WasmModule {
  binary: Uint8Array;
  /** The size parameters every kernel takes after its buffer addresses. */
  sizes: string[];
}

export interface RenderOptions {
  optimize?: boolean;
  /** The matmul's tile and instruction choice (needed when the program has tensorized kernels). */
  gemm?: GemmConfig;
  /** Import a shared memory, for worker threads. */
  shared?: boolean;
  /** Kernels rendered of all, then binaryen's optimization as one last step. */
  onProgress?: OnProgress;
}

/** The whole program as one module importing its memory ("env", "memory") and the math functions. */
export function renderProgram(p: KernelProgram, options: RenderOptions = {}): WasmModule {
  const m = new binaryen.Module();
  let features = binaryen.Features.MVP | binaryen.Features.NontrappingFPToInt | binaryen.Features.SIMD128 | binaryen.Features.BulkMemory;
  if (options.gemm?.fma) features |= binaryen.Features.RelaxedSIMD;
  if (options.shared) features |= binaryen.Features.Atomics;
  m.setFeatures(features);
  m.setMemory(1, 65536, null, [], options.shared ?? false, false, '0');
  m.addMemoryImport('0', 'env', 'memory', options.shared ?? false);
  for (const fn of mathImports) m.addFunctionImport(`math.${fn}`, 'math', fn, binaryen.createType([binaryen.f64]), binaryen.f64);
  const sizes = programSizes(p);
  try {
    if (p.kernels.some((k) => k.threads)) {
      if (!options.gemm) throw new Error('the program has tensorized kernels: render it with a gemm configuration');
      addGemm(m, options.gemm);
    }
    addExp(m);
    const steps = p.kernels.length + 1;
    p.kernels.forEach((k, i) => {
      renderKernel(m, k, sizes);
      options.onProgress?.(i + 1, steps, 'rendering kernels');
    });
    if (!m.validate()) throw new Error('binaryen rejected the generated module');
    if (options.optimize !== false) {
      options.onProgress?.(p.kernels.length, steps, 'binaryen -O3');
      // Global settings of the binaryen instance, so set on every call. No inlining: inlined into the gemm driver,
      // the register tiles share one huge function and V8 spills their accumulators (20 against 48 GFLOP/s).
      binaryen.setOptimizeLevel(3);
      binaryen.setShrinkLevel(0);
      binaryen.setAlwaysInlineMaxSize(0);
      binaryen.setFlexibleInlineMaxSize(0);
      binaryen.setOneCallerInlineMaxSize(0);
      m.optimize();
    }
    const binary = m.emitBinary();
    options.onProgress?.(steps, steps, 'done');
    return { binary, sizes };
  } finally {
    m.dispose();
  }
}
