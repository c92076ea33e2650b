// Runs a compiled WebAssembly program: lays its buffers out in one linear memory (temporaries packed by the
// memory plan), copies weights and inputs in, calls the kernels in order, reads the outputs back.
import { evalDim } from '../../compiler/ir/dims.ts';
import type { KernelProgram } from '../../compiler/kernel/ir.ts';
import type { MemoryPlan } from '../../compiler/kernel/memory-plan.ts';
import { erf } from '../reference/kernels/elementwise.ts';

export type Storage = Float32Array | Int32Array;

interface Layout {
  offset: Map<string, number>;
  bytes: number;
}

const ALIGN = 64;
const align = (n: number) => Math.ceil(n / ALIGN) * ALIGN;

function layout(p: KernelProgram, plan: MemoryPlan, sizes: Record<string, number>): Layout {
  const offset = new Map<string, number>();
  let top = ALIGN; // address 0 stays unused, so a stray null pointer is not a buffer
  const place = (bytes: number) => {
    const at = top;
    top = align(top + Math.max(bytes, 4));
    return at;
  };
  const slotAt = new Map<number, number>();
  for (const b of p.buffers) {
    if (b.aliasOf) continue;
    const bytes = evalDim(b.size, sizes) * 4;
    const slot = b.kind === 'temp' ? plan.slotOf.get(b.name) : undefined;
    if (slot === undefined) offset.set(b.name, place(bytes));
    else {
      if (!slotAt.has(slot)) slotAt.set(slot, place(evalDim(plan.slots[slot]!.size, sizes) * 4));
      offset.set(b.name, slotAt.get(slot)!);
    }
  }
  for (const b of p.buffers) if (b.aliasOf) offset.set(b.name, offset.get(b.aliasOf)!);
  return { offset, bytes: top };
}

export interface WasmRun {
  params: (name: string) => Storage;
  inputs: Record<string, Storage>;
  sizes: Record<string, number>;
  /** Receives each kernel's wall time in milliseconds (for `moec run --profile`). */
  profile?: (kernel: string, ops: string[], ms: number) => void;
}

export class WasmProgram {
  private readonly module: WebAssembly.Module;

  constructor(readonly program: KernelProgram, readonly plan: MemoryPlan, binary: Uint8Array, readonly sizeNames: string[]) {
    this.module = new WebAssembly.Module(new Uint8Array(binary));
  }

  run(r: WasmRun): Record<string, Storage> {
    const { offset, bytes } = layout(this.program, this.plan, r.sizes);
    const pages = Math.ceil(bytes / 65536) + 1;
    if (pages > 65536) throw new RangeError(`the model needs ${bytes} bytes of wasm memory; the limit is 4 GiB`);
    const memory = new WebAssembly.Memory({ initial: pages, maximum: 65536 });
    const math = { exp: Math.exp, log: Math.log, tanh: Math.tanh, erf, sin: Math.sin, cos: Math.cos };
    const instance = new WebAssembly.Instance(this.module, { env: { memory }, math });
    const view = (name: string, n: number, float: boolean): Storage => {
      const at = offset.get(name)!;
      return float ? new Float32Array(memory.buffer, at, n) : new Int32Array(memory.buffer, at, n);
    };
    for (const b of this.program.buffers) {
      if (b.aliasOf) continue;
      const float = b.dtype === 'f32' || b.dtype === 'f16' || b.dtype === 'bf16';
      const n = evalDim(b.size, r.sizes);
      if (b.kind === 'param') view(b.name, n, float).set(r.params(b.source));
      else if (b.kind === 'input') view(b.name, n, float).set(r.inputs[b.source]!);
      else if (b.kind === 'const') view(b.name, n, float).set(b.data!);
    }
    const sizeArgs = this.sizeNames.map((s) => {
      const v = r.sizes[s];
      if (v === undefined) throw new Error(`no size given for '${s}'`);
      return v;
    });
    for (const k of this.program.kernels) {
      const fn = instance.exports[k.name] as (...args: number[]) => void;
      const args = [...k.buffers.map((b) => offset.get(b.name)!), ...sizeArgs];
      if (!r.profile) {
        fn(...args);
        continue;
      }
      const t0 = performance.now();
      fn(...args);
      r.profile(k.name, k.ops, performance.now() - t0);
    }
    const out: Record<string, Storage> = {};
    for (const o of this.program.outputs) {
      const b = this.program.buffers.find((x) => x.name === o.buffer)!;
      const float = b.dtype === 'f32' || b.dtype === 'f16' || b.dtype === 'bf16';
      out[o.name] = view(o.buffer, evalDim(b.size, r.sizes), float).slice();
    }
    return out;
  }
}
