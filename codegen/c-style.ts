// One renderer of kernel-IR loop nests for every C-like target (WGSL, CUDA C): the expressions, statements and the
// grid prologue are the same walk everywhere; a target supplies only a table of spellings (types, literals,
// intrinsics, declarations), as tinygrad's cstyle renderer does for its languages.
import type { BinOp, Expr, Kernel, ScalarType, Stmt, UnOp } from '../compiler/kernel/ir.ts';
import { gridLoops } from './grid.ts';

/** How a target writes what the walk produces; every function returns source text. */
export interface Spelling {
  type(t: ScalarType): string;
  literal(value: number, type: ScalarType): string;
  /** A run-time size: number `index` of the program's sorted list, or a target's own parameter ('#' names, index -1). */
  size(index: number, name: string): string;
  /** A value of another scalar type, converted. */
  convert(code: string, to: ScalarType): string;
  select(cond: string, a: string, b: string): string;
  /** Unary operators but negation; `type` is the operand's (and result's). */
  unary(op: Exclude<UnOp, 'neg'>, a: string, type: ScalarType): string;
  neg(a: string): string;
  /** Binary operators; `type` is the result's (bool for comparisons). */
  binary(op: BinOp, a: string, b: string, type: ScalarType): string;
  /** A local bound once (a loop's end). */
  constant(name: string, type: ScalarType, value: string): string;
  /** Element `index` of a buffer stored in a form of the target's own (f16 weights), as an f32; undefined for the
   * plain `id[index]`. */
  element?(buffer: string, id: string, index: string): string | undefined;
  /** An f32 value as stored into a buffer the target keeps in a form of its own (bf16 activations), undefined for
   * the plain value. */
  stored?(buffer: string, value: string): string | undefined;
  /** A mutable local with its first value (the grid prologue's remainder). */
  variable(name: string, type: ScalarType, value: string): string;
}

/** Storage buffers hold 32-bit words: floats (any float dtype, computed in f32) or integers (i32, i64, bool). */
export const bufferScalar = (dtype: string): 'f32' | 'i32' => (dtype === 'f32' || dtype === 'f16' || dtype === 'bf16' ? 'f32' : 'i32');

/** A kernel's local variable as an identifier (kernel-IR names may hold dots). */
export const local = (name: string) => `l_${name.replace(/[^A-Za-z0-9_]/g, '_')}`;
export const typeOf = (e: Expr): ScalarType => (e.k === 'size' ? 'i32' : e.type);

/**
 * A renderer of one kernel's expressions and statements. Buffers are `b0`, `b1`, … in the kernel's order; locals
 * are hoisted (the kernel IR's scalars live until the kernel ends, whatever block first set them), so `locals`
 * collects them, in order of first appearance, for the target's template to declare.
 */
export function cStyleRenderer(k: Kernel, sizes: string[], s: Spelling) {
  const bufferId = new Map(k.buffers.map((b, i) => [b.name, `b${i}`]));
  const bufferType = new Map(k.buffers.map((b) => [b.name, bufferScalar(b.dtype)]));
  const locals = new Map<string, ScalarType>();
  let ends = 0;
  const idOf = (buffer: string) => {
    const id = bufferId.get(buffer);
    if (!id) throw new Error(`kernel ${k.name}: ${buffer} is not one of its buffers`);
    return id;
  };

  const expr = (e: Expr): string => {
    switch (e.k) {
      case 'const': return s.literal(e.value, e.type);
      case 'var': return local(e.name);
      case 'size': return s.size(sizes.indexOf(e.name), e.name);
      case 'load': {
        // A buffer the target stores in another form (f16 weights) reads as f32 through the target's spelling.
        const special = s.element?.(e.buffer, idOf(e.buffer), expr(e.index));
        if (special !== undefined) return e.type === 'f32' ? special : s.convert(special, e.type);
        const v = `${idOf(e.buffer)}[${expr(e.index)}]`;
        return bufferType.get(e.buffer) === e.type ? v : s.convert(v, e.type);
      }
      case 'cast': return typeOf(e.a) === e.type ? expr(e.a) : s.convert(expr(e.a), e.type);
      case 'select': return s.select(expr(e.cond), expr(e.a), expr(e.b));
      case 'addr': throw new Error(`kernel ${k.name}: addresses belong to the wasm target`);
      case 'un': return e.op === 'neg' ? s.neg(expr(e.a)) : s.unary(e.op, expr(e.a), e.type);
      case 'bin': return s.binary(e.op, expr(e.a), expr(e.b), e.type);
    }
  };

  const stmts = (list: Stmt[], indent: string): string[] =>
    list.flatMap((st): string[] => {
      switch (st.k) {
        case 'let':
          locals.set(st.name, st.type);
          return [`${indent}${local(st.name)} = ${expr(st.value)};`];
        case 'set':
          return [`${indent}${local(st.name)} = ${expr(st.value)};`];
        case 'store': {
          const want = bufferType.get(st.buffer);
          const e = expr(st.value);
          const v = typeOf(st.value) === want ? e : s.convert(e, want!);
          return [`${indent}${idOf(st.buffer)}[${expr(st.index)}] = ${s.stored?.(st.buffer, v) ?? v};`];
        }
        case 'if':
          return [`${indent}if (${expr(st.cond)}) {`, ...stmts(st.then, `${indent}  `), `${indent}}`];
        case 'for': {
          locals.set(st.var, 'i32');
          const end = `end${ends++}`;
          const v = local(st.var);
          return [`${indent}{`, `${indent}  ${s.constant(end, 'i32', expr(st.extent))}`, `${indent}  for (${v} = ${s.literal(0, 'i32')}; ${v} < ${end}; ${v}++) {`, ...stmts(st.body, `${indent}    `), `${indent}  }`, `${indent}}`];
        }
        case 'call':
          throw new Error(`kernel ${k.name}: '${st.fn}' is an intrinsic of another target`);
      }
    });

  /**
   * The kernel's body for one thread with flat index `flat` (declared by the template): the grid loops' variables
   * decoded from it (the last loop varies fastest, as in the loop nest), threads past the total returning first,
   * then the rest of the loop nest as written. With no grid loop, thread 0 runs the whole kernel.
   */
  const threadBody = (): { lines: string[]; grid: Expr[] } => {
    const { loops, body } = gridLoops(k);
    const lines: string[] = [];
    if (loops.length === 0) lines.push(`  if (flat != ${s.literal(0, 'i32')}) { return; }`);
    else {
      const total = loops.map((l) => `(${expr(l.extent)})`).join(' * ');
      lines.push(`  if (flat >= ${total}) { return; }`, `  ${s.variable('rest', 'i32', 'flat')}`);
      for (let i = loops.length - 1; i >= 0; i--) {
        locals.set(loops[i]!.var, 'i32');
        const v = local(loops[i]!.var);
        if (i === 0) lines.push(`  ${v} = rest;`);
        else lines.push(`  ${v} = rest % (${expr(loops[i]!.extent)});`, `  rest = rest / (${expr(loops[i]!.extent)});`);
      }
    }
    lines.push(...stmts(body, '  '));
    return { lines, grid: loops.map((l) => l.extent) };
  };

  return { expr, stmts, threadBody, locals, bufferId, bufferType, typeOf };
}
