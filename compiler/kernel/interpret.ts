// An interpreter of the kernel IR: runs a kernel program's loop nests directly in JavaScript. It checks the
// lowering from graph to kernels against the reference executor before any target renders the kernels.
import { evalDim } from '../ir/dims.ts';
import type { Expr, Kernel, KernelProgram, Stmt } from './ir.ts';
import type { MemoryPlan } from './memory-plan.ts';
// The same erf as the reference executor (accurate to ~1e-15 over the whole line).
import { erf } from '../../runtime/reference/kernels/elementwise.ts';

export type Storage = Float32Array | Int32Array;


export function runKernel(kernel: Kernel, storage: Map<string, Storage>, sizes: Record<string, number>): void {
  const env = new Map<string, number>();
  const buf = (name: string): Storage => {
    const b = storage.get(name);
    if (!b) throw new Error(`kernel ${kernel.name}: buffer ${name} is not bound`);
    return b;
  };
  const ev = (e: Expr): number => {
    switch (e.k) {
      case 'const': return e.value;
      case 'var': {
        const v = env.get(e.name);
        if (v === undefined) throw new Error(`kernel ${kernel.name}: ${e.name} is not defined`);
        return v;
      }
      case 'size': {
        const v = sizes[e.name];
        if (v === undefined) throw new Error(`kernel ${kernel.name}: no size for ${e.name}`);
        return v;
      }
      case 'load': {
        const b = buf(e.buffer);
        const idx = ev(e.index);
        if (!(idx >= 0 && idx < b.length)) throw new RangeError(`kernel ${kernel.name}: ${e.buffer}[${idx}] is out of bounds (${b.length})`);
        return b[idx]!;
      }
      case 'cast': return e.type === 'i32' ? Math.trunc(ev(e.a)) : ev(e.a);
      case 'addr': throw new Error(`kernel ${kernel.name}: addresses belong to target programs`);
      case 'select': return ev(e.cond) ? ev(e.a) : ev(e.b);
      case 'un': {
        const a = ev(e.a);
        switch (e.op) {
          case 'neg': return -a;
          case 'exp': return Math.fround(Math.exp(a));
          case 'log': return Math.log(a);
          case 'sqrt': return Math.sqrt(a);
          case 'rsqrt': return 1 / Math.sqrt(a);
          case 'tanh': return Math.tanh(a);
          case 'erf': return erf(a);
          case 'sin': return Math.sin(a);
          case 'cos': return Math.cos(a);
          case 'floor': return Math.floor(a);
          case 'abs': return Math.abs(a);
        }
        break;
      }
      case 'bin': {
        const a = ev(e.a);
        const b = ev(e.b);
        const int = e.type === 'i32';
        switch (e.op) {
          case '+': return int ? (a + b) | 0 : Math.fround(a + b);
          case '-': return int ? (a - b) | 0 : Math.fround(a - b);
          case '*': return int ? Math.imul(a, b) : Math.fround(a * b);
          case '/': return int ? Math.trunc(a / b) : Math.fround(a / b);
          case '%': return a % b;
          case 'min': return Math.min(a, b);
          case 'max': return Math.max(a, b);
          case '<': return a < b ? 1 : 0;
          case '<=': return a <= b ? 1 : 0;
          case '==': return a === b ? 1 : 0;
          case '!=': return a !== b ? 1 : 0;
          case '&&': return a && b ? 1 : 0;
          case '||': return a || b ? 1 : 0;
        }
      }
    }
    throw new Error(`kernel ${kernel.name}: cannot evaluate ${JSON.stringify(e)}`);
  };
  const exec = (stmts: Stmt[]): void => {
    for (const s of stmts) {
      switch (s.k) {
        case 'for': {
          const n = ev(s.extent);
          for (let x = 0; x < n; x++) {
            env.set(s.var, x);
            exec(s.body);
          }
          break;
        }
        case 'let':
        case 'set':
          env.set(s.name, s.k === 'let' && s.type === 'f32' ? Math.fround(ev(s.value)) : ev(s.value));
          break;
        case 'store': {
          const b = buf(s.buffer);
          const idx = ev(s.index);
          if (!(idx >= 0 && idx < b.length)) throw new RangeError(`kernel ${kernel.name}: store ${s.buffer}[${idx}] is out of bounds (${b.length})`);
          b[idx] = ev(s.value);
          break;
        }
        case 'if':
          if (ev(s.cond)) exec(s.then);
          break;
        case 'call':
          throw new Error(`kernel ${kernel.name}: '${s.fn}' is an intrinsic of a target; the interpreter runs target-neutral programs`);
      }
    }
  };
  exec(kernel.body);
}

export interface RunOptions {
  params: (name: string) => Storage;
  inputs: Record<string, Storage>;
  sizes: Record<string, number>;
  /** Temporaries share storage as the memory plan says (to check that the plan never overlaps live buffers). */
  plan?: MemoryPlan;
  after?: (kernel: Kernel, storage: ReadonlyMap<string, Storage>) => void;
}

/** Allocates every buffer, binds params and inputs, runs the kernels in order, returns the named outputs. */
export function runProgram(program: KernelProgram, o: RunOptions): Record<string, Storage> {
  const storage = new Map<string, Storage>();
  const slotStorage = new Map<number, Storage>();
  const alloc = (dtype: string, n: number): Storage => (dtype === 'f32' || dtype === 'f16' || dtype === 'bf16' ? new Float32Array(n) : new Int32Array(n));
  for (const b of program.buffers) {
    if (b.aliasOf) continue;
    if (b.kind === 'param') storage.set(b.name, o.params(b.source));
    else if (b.kind === 'const') storage.set(b.name, b.dtype === 'f32' ? Float32Array.from(b.data!) : Int32Array.from(b.data!));
    else if (b.kind === 'input') storage.set(b.name, o.inputs[b.source]!);
    else {
      const slot = o.plan?.slotOf.get(b.name);
      const n = evalDim(b.size, o.sizes);
      if (slot === undefined) storage.set(b.name, alloc(b.dtype, n));
      else {
        if (!slotStorage.has(slot)) slotStorage.set(slot, alloc(b.dtype, n));
        storage.set(b.name, slotStorage.get(slot)!);
      }
    }
  }
  for (const b of program.buffers) if (b.aliasOf) storage.set(b.name, storage.get(b.aliasOf)!);
  program.kernels.forEach((k, index) => {
    // Freshly (re)used storage starts as garbage, never as a previous value that might hide a missing write.
    if (o.plan) for (const kb of k.buffers) if (o.plan.lifetimes.get(kb.name)?.[0] === index) storage.get(kb.name)!.fill(kb.dtype === 'f32' ? NaN : -7);
    runKernel(k, storage, o.sizes);
    o.after?.(k, storage);
  });
  return Object.fromEntries(program.outputs.map((out) => [out.name, storage.get(out.buffer)!]));
}
