// Scheduling: the graph IR (after its passes) to a kernel program: a buffer for every value, one loop-nest
// kernel per op in execution order, reshapes as views of their operand's storage.
import { numel } from '../ir/dims.ts';
import type { Graph, TensorType } from '../ir/types.ts';
import { typeEnvironment } from '../ir/verify.ts';
import type { Kernel, KernelBuffer, KernelProgram, ProgramBuffer } from './ir.ts';
import { opLowerings } from './ops/index.ts';
import type { Operand } from './ops/context.ts';

export class ScheduleError extends Error {}

const bufferName = (ref: string) => (ref.startsWith('@') ? `p:${ref.slice(1)}` : `v${ref.slice(1)}`);

export function scheduleGraph(g: Graph): KernelProgram {
  const types = typeEnvironment(g);
  const buffers: ProgramBuffer[] = [];
  const byRef = new Map<string, ProgramBuffer>();
  const outputRefs = new Set(g.outputs.map((o) => o.value));
  const typeOf = (ref: string): TensorType => {
    const t = types.get(ref);
    if (!t) throw new ScheduleError(`${ref} has no type: run shape-inference before scheduling`);
    return t;
  };
  const declare = (ref: string, kind: ProgramBuffer['kind'], source: string, aliasOf?: string): ProgramBuffer => {
    const t = typeOf(ref);
    const b: ProgramBuffer = { name: bufferName(ref), dtype: t.dtype, size: numel(t.shape), kind, source };
    if (aliasOf) b.aliasOf = aliasOf;
    buffers.push(b);
    byRef.set(ref, b);
    return b;
  };
  for (const p of g.params) declare(`@${p.name}`, 'param', p.name);
  for (const i of g.inputs) declare(`%${i.name}`, 'input', i.name);

  const kernels: Kernel[] = [];
  g.nodes.forEach((n, idx) => {
    if (n.op === 'reshape') {
      const src = byRef.get(n.inputs[0]!)!;
      declare(n.outputs[0]!, outputRefs.has(n.outputs[0]!) ? 'output' : 'temp', n.outputs[0]!, src.aliasOf ?? src.name);
      return;
    }
    const collective = n.op === 'all_to_all_dispatch' || n.op === 'all_to_all_combine'
      ? { op: n.op, experts: n.attrs.experts as number, ranks: n.attrs.ranks as number, width: Number(typeOf(n.inputs[0]!).shape.at(-1)) } as const
      : undefined;
    const lowering = collective ? () => [] : opLowerings[n.op];
    if (!lowering) throw new ScheduleError(`node ${idx} (${n.op}): no kernel lowering for '${n.op}'`);
    const name = `k${kernels.length}_${n.op}`;
    const local: KernelBuffer[] = [];
    const operand = (ref: string): Operand => {
      const b = byRef.get(ref)!;
      return { buffer: b.aliasOf ?? b.name, dtype: b.dtype, shape: typeOf(ref).shape };
    };
    const ins = n.inputs.map(operand);
    const outs = n.outputs.map((o) => {
      declare(o, outputRefs.has(o) ? 'output' : 'temp', o);
      return operand(o);
    });
    let extra = 0;
    let gemm: Kernel['gemm'];
    let attention: Kernel['attention'];
    let dispatch: Kernel['dispatch'];
    let router: Kernel['router'];
    const body = lowering({
      ins, outs, attrs: n.attrs,
      scratch: (dtype, size) => {
        const b: ProgramBuffer = { name: `${name}.scratch${extra++}`, dtype, size, kind: 'temp', source: name };
        buffers.push(b);
        local.push({ name: b.name, dtype, size, access: 'readwrite' });
        return b.name;
      },
      constant: (dtype, data) => {
        const b: ProgramBuffer = { name: `${name}.const${extra++}`, dtype, size: data.length, kind: 'const', source: name, data };
        buffers.push(b);
        local.push({ name: b.name, dtype, size: data.length, access: 'read' });
        return b.name;
      },
      gemm: (spec) => {
        gemm = spec;
      },
      attention: (spec) => {
        attention = spec;
      },
      dispatch: (spec) => {
        dispatch = spec;
      },
      router: (spec) => {
        router = spec;
      },
    });
    const seen = new Set<string>();
    const kb = (o: Operand, access: KernelBuffer['access']): KernelBuffer[] => {
      if (seen.has(o.buffer)) return [];
      seen.add(o.buffer);
      const b = buffers.find((x) => x.name === o.buffer)!;
      return [{ name: o.buffer, dtype: b.dtype, size: b.size, access }];
    };
    const kernel: Kernel = { name, ops: [n.op], buffers: [...ins.flatMap((o) => kb(o, 'read')), ...outs.flatMap((o) => kb(o, 'write')), ...local], body };
    if (n.loc) kernel.loc = n.loc;
    if (gemm) kernel.gemm = gemm;
    if (attention) kernel.attention = attention;
    if (dispatch) kernel.dispatch = dispatch;
    if (router) kernel.router = router;
    if (collective) kernel.collective = collective;
    kernels.push(kernel);
  });

  const view = (ref: string) => {
    const b = byRef.get(ref)!;
    return b.aliasOf ?? b.name;
  };
  return {
    name: g.name,
    buffers,
    kernels,
    inputs: g.inputs.map((i) => ({ name: i.name, buffer: view(`%${i.name}`), shape: i.type.shape })),
    outputs: g.outputs.map((o) => ({ name: o.name, buffer: view(o.value), shape: typeOf(o.value).shape })),
  };
}
