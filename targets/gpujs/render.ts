// The gpu.js target: kernel-IR loop nests as gpu.js kernels (WebGL through gpu.js's JavaScript-subset kernel
// language) where a kernel is a grid of independent threads each storing a fixed number of values, and as plain
// JavaScript on the CPU for the rest. Both are the shared C-like renderer's expressions with JavaScript's spellings;
// only what gpu.js needs differs: every number is a float (gpu.js types an integer-valued literal or `this.thread.x`
// as an int and then casts the other operand to int), so integer division is floor((a + ½) / b), exact for the
// non-negative indices the loop nests compute and below 2²⁴ (float precision); sizes are read from an array argument.
//
// gpu.js kernels return one value per thread and cannot store at computed addresses, so a GPU kernel returns the
// (index, value) pair of each of its stores — Array(2) or Array(4) — and the runtime scatters them; an index of -1 is
// a store the thread did not reach. Kernels that store inside a sequential loop (norms writing a row, attention, the
// MoE dispatch's counting sort, softmax-top-k) or have no grid run as JavaScript on the CPU: the counting sort is
// sequential by nature, and for the tiny configurations a browser runs, a row of a norm is a few dozen values.
import type { Expr, Kernel, KernelProgram, Stmt } from '../../compiler/kernel/ir.ts';
import { programSizes } from '../../compiler/kernel/sizes.ts';
import { cStyleRenderer, local, type Spelling } from '../../codegen/c-style.ts';
import { gridLoops } from '../../codegen/grid.ts';

/** gpu.js returns at most four floats per thread: two (index, value) pairs. */
const maxStores = 2;

export interface GpujsKernel {
  name: string;
  ops: string[];
  /** 'gpu': `code` is a gpu.js kernel function, one thread per grid iteration; 'cpu': a JavaScript function. */
  mode: 'gpu' | 'cpu';
  code: string;
  /** gpu: the grid's loop extents (threads: their product). */
  grid: Expr[];
  /** gpu: the buffers passed to the kernel, in order, before the sizes array. */
  args: string[];
  /** gpu: the buffer each returned (index, value) pair stores into. */
  stores: string[];
  /** cpu: why the kernel runs on the CPU. */
  cpu?: string;
}

export interface GpujsProgram {
  sizes: string[];
  kernels: GpujsKernel[];
}

function jsFloat(v: number, gpu: boolean): string {
  if (v === Infinity) return gpu ? '3.4028234663852886e38' : 'Infinity';
  if (v === -Infinity) return gpu ? '-3.4028234663852886e38' : '-Infinity';
  if (Number.isNaN(v)) return 'NaN';
  const s = String(gpu ? Math.fround(v) : v);
  return /[.e]/.test(s) || !gpu ? s : `${s}.0`;
}

/** erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7), as the WGSL target writes it; gpu.js adds it as a function. */
export const erfSource = `function erf_(x) {
  const a = Math.abs(x);
  const t = 1.0 / (1.0 + 0.3275911 * a);
  const y = 1.0 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-a * a);
  return x < 0.0 ? -y : y;
}`;

/** JavaScript's spellings; `gpu` for gpu.js's kernel language, where every number is a float. */
function jsSpelling(gpu: boolean): Spelling {
  const idiv = (a: string, b: string) => (gpu ? `Math.floor((${a} + 0.5) / ${b})` : `Math.trunc(${a} / ${b})`);
  return {
    type: () => 'let',
    literal: (v, t) => (t === 'bool' ? String(v !== 0) : t === 'f32' ? jsFloat(v, gpu) : gpu ? jsFloat(v, true) : String(v)),
    size: (i) => `sz[${i}]`,
    // Casts from bool are rewritten to selects before rendering (castsFromBool), so these see numbers only.
    convert: (code, t) => (t === 'bool' ? `(${code} != 0.0)` : t === 'f32' ? code : gpu ? `(${code} < 0.0 ? -Math.floor(-${code}) : Math.floor(${code}))` : `Math.trunc(${code})`),
    select: (c, a, b) => `(${c} ? ${a} : ${b})`,
    unary: (op, a) => (op === 'rsqrt' ? `(1.0 / Math.sqrt(${a}))` : op === 'erf' ? `erf_(${a})` : `Math.${op}(${a})`),
    neg: (a) => `(-${a})`,
    binary: (op, a, b, t) => {
      if (op === 'min' || op === 'max') return `Math.${op}(${a}, ${b})`;
      if (t === 'i32' && op === '/') return idiv(a, b);
      if (t === 'i32' && op === '%' && gpu) return `(${a} - ${b} * ${idiv(a, b)})`;
      return `(${a} ${op === '==' ? '===' : op === '!=' ? '!==' : op} ${b})`;
    },
    constant: (name, _t, value) => `const ${name} = ${value};`,
    variable: (name, _t, value) => `let ${name} = ${value};`,
  };
}

/** Casts from bool become selects and constant pairs are folded: gpu.js converts neither a bool nor an int literal. */
function simplify(e: Expr): Expr {
  switch (e.k) {
    case 'cast': {
      const a = simplify(e.a);
      const from = a.k === 'size' ? 'i32' : a.type;
      if (from === 'bool' && e.type !== 'bool') return { k: 'select', cond: a, a: { k: 'const', value: 1, type: e.type }, b: { k: 'const', value: 0, type: e.type }, type: e.type };
      return { ...e, a };
    }
    case 'bin': {
      const a = simplify(e.a);
      const b = simplify(e.b);
      if (a.k === 'const' && b.k === 'const' && ['+', '-', '*', 'min', 'max'].includes(e.op)) {
        const v = e.op === '+' ? a.value + b.value : e.op === '-' ? a.value - b.value : e.op === '*' ? a.value * b.value : Math[e.op as 'min' | 'max'](a.value, b.value);
        return { k: 'const', value: v, type: e.type };
      }
      return { ...e, a, b };
    }
    case 'un': return { ...e, a: simplify(e.a) };
    case 'select': return { ...e, cond: simplify(e.cond), a: simplify(e.a), b: simplify(e.b) };
    case 'load': return { ...e, index: simplify(e.index) };
    default: return e;
  }
}

function simplifyStmts(list: Stmt[]): Stmt[] {
  return list.map((s): Stmt => {
    switch (s.k) {
      case 'for': return { ...s, extent: simplify(s.extent), body: simplifyStmts(s.body) };
      case 'let': case 'set': return { ...s, value: simplify(s.value) };
      case 'store': return { ...s, index: simplify(s.index), value: simplify(s.value) };
      case 'if': return { ...s, cond: simplify(s.cond), then: simplifyStmts(s.then) };
      case 'call': return s;
    }
  });
}

/** Why a kernel cannot be a gpu.js kernel, or undefined when it can: stores only outside sequential loops, a few. */
function cpuReason(body: Stmt[], gridSize: number): string | undefined {
  if (gridSize === 0) return 'no parallel grid (one thread runs the whole kernel)';
  let stores = 0;
  let reason: string | undefined;
  const walk = (list: Stmt[], inLoop: boolean): void => {
    for (const s of list) {
      if (s.k === 'store') {
        stores++;
        if (inLoop) reason ??= 'stores inside a sequential loop';
      } else if (s.k === 'for') walk(s.body, true);
      else if (s.k === 'if') walk(s.then, inLoop);
      else if (s.k === 'call') reason ??= `calls '${s.fn}'`;
    }
  };
  walk(body, false);
  if (reason) return reason;
  if (stores === 0) return 'no stores';
  if (stores > maxStores) return `${stores} stores per thread (gpu.js returns at most ${maxStores})`;
  return undefined;
}

/** A kernel as a JavaScript function (buffers b0, b1, … as typed arrays, then the sizes array `sz`) run on the CPU. */
function renderCpu(k: Kernel, sizes: string[], why: string): GpujsKernel {
  const kernel = { ...k, body: simplifyStmts(k.body) };
  const r = cStyleRenderer(kernel, sizes, jsSpelling(false));
  const { lines, grid } = r.threadBody();
  const total = grid.length ? grid.map((e) => `(${r.expr(e)})`).join(' * ') : '1';
  const params = [...k.buffers.map((_, i) => `b${i}`), 'sz'].join(', ');
  const decls = [...r.locals].map(([name, t]) => `${local(name)} = ${t === 'bool' ? 'false' : '0'}`);
  const code = [
    `function ${k.name.replace(/[^A-Za-z0-9_]/g, '_')}(${params}) {`,
    `  // ${k.ops.join(', ')}${k.loc ? ` at ${k.loc}` : ''}: on the CPU (${why})`,
    '  const thread = (flat) => {',
    ...(decls.length ? [`    let ${decls.join(', ')};`] : []),
    // The shared grid prologue divides as the C-like languages do; in JavaScript the quotient must be truncated.
    ...lines.map((l) => `  ${l.replace(/^(\s*rest = )rest \/ (.*);$/, '$1Math.trunc(rest / $2);')}`),
    '  };',
    `  const total = ${total};`,
    '  for (let flat = 0; flat < total; flat++) thread(flat);',
    '}',
  ].join('\n');
  return { name: k.name, ops: k.ops, mode: 'cpu', code, grid, args: [], stores: [], cpu: why };
}

/**
 * A kernel as a gpu.js kernel function: thread `this.thread.x` decodes its grid variables, runs the body, and
 * returns the (index, value) of each store. Locals are declared at the top as floats (gpu.js types a variable by
 * its first value) and loop variables in their `for` (gpu.js's loops must declare theirs).
 */
function renderGpu(k: Kernel, sizes: string[], loops: { var: string; extent: Expr }[], body: Stmt[]): GpujsKernel {
  const r = cStyleRenderer({ ...k, body }, sizes, jsSpelling(true));
  const e = (x: Expr) => r.expr(x);
  const loopVars = new Set<string>();
  const stores: string[] = [];
  let ends = 0;
  const stmts = (list: Stmt[], indent: string): string[] => list.flatMap((s): string[] => {
    switch (s.k) {
      case 'let':
        r.locals.set(s.name, s.type);
        return [`${indent}${local(s.name)} = ${e(s.value)};`];
      case 'set':
        return [`${indent}${local(s.name)} = ${e(s.value)};`];
      case 'store': {
        const n = stores.push(s.buffer) - 1;
        const value = (s.value.k === 'size' ? 'i32' : s.value.type) === 'bool' ? `(${e(s.value)} ? 1.0 : 0.0)` : e(s.value);
        return [`${indent}st${n} = ${e(s.index)};`, `${indent}sv${n} = ${value};`];
      }
      case 'if':
        return [`${indent}if (${e(s.cond)}) {`, ...stmts(s.then, `${indent}  `), `${indent}}`];
      case 'for': {
        loopVars.add(s.var);
        const end = `end${ends++}`;
        const v = local(s.var);
        return [`${indent}const ${end} = ${e(s.extent)};`, `${indent}for (let ${v} = 0.0; ${v} < ${end}; ${v}++) {`, ...stmts(s.body, `${indent}  `), `${indent}}`];
      }
      case 'call':
        throw new Error(`kernel ${k.name}: '${s.fn}' is an intrinsic of another target`);
    }
  });
  const decode: string[] = ['  let rest = Math.floor(0.5 + this.thread.x);'];
  for (let i = loops.length - 1; i >= 0; i--) {
    const v = local(loops[i]!.var);
    r.locals.set(loops[i]!.var, 'i32');
    if (i === 0) decode.push(`  ${v} = rest;`);
    else {
      const ext = e(loops[i]!.extent);
      decode.push(`  ${v} = rest - ${ext} * Math.floor((rest + 0.5) / ${ext});`, `  rest = Math.floor((rest + 0.5) / ${ext});`);
    }
  }
  const lines = stmts(body, '  ');
  const pairs = stores.map((_, n) => `  let st${n} = -1.0;\n  let sv${n} = 0.0;`);
  const decls = [...r.locals].filter(([name]) => !loopVars.has(name)).map(([name, t]) => `  let ${local(name)} = ${t === 'bool' ? 'false' : '0.0'};`);
  const ret = stores.map((_, n) => `st${n}, sv${n}`).join(', ');
  // The buffers it reads, in kernel order: gpu.js kernels take their inputs as arguments.
  const args = k.buffers.filter((b) => b.access !== 'write').map((b) => b.name);
  const argIds = args.map((name) => r.bufferId.get(name)!);
  const code = [
    `function (${[...argIds, 'sz'].join(', ')}) {`,
    ...decls, ...pairs, ...decode, ...lines,
    `  return [${ret}];`,
    '}',
  ].join('\n');
  return { name: k.name, ops: k.ops, mode: 'gpu', code, grid: loops.map((l) => l.extent), args, stores };
}

export function renderKernel(k: Kernel, sizes: string[]): GpujsKernel {
  const { loops, body } = gridLoops(k);
  const why = cpuReason(body, loops.length);
  if (why) return renderCpu(k, sizes, why);
  return renderGpu(k, sizes, loops.map((l) => ({ var: l.var, extent: simplify(l.extent) })), simplifyStmts(body));
}

export function renderProgram(p: KernelProgram): GpujsProgram {
  const sizes = programSizes(p);
  return { sizes, kernels: p.kernels.map((k) => renderKernel(k, sizes)) };
}
