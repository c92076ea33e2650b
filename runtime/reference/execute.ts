// The reference executor: interprets the graph IR node by node in float32 on the CPU. It is the oracle every
// compiled target is checked against: simple, and checked against the IR's own types as it goes.
import { evalDim } from '../../compiler/ir/dims.ts';
import type { Graph, Node, TensorType } from '../../compiler/ir/types.ts';
import { attentionKernels } from './kernels/attention.ts';
import { dftKernels } from './kernels/dft.ts';
import { elementwiseKernels } from './kernels/elementwise.ts';
import { fusedKernels } from './kernels/fused.ts';
import { lossKernels } from './kernels/losses.ts';
import { matmulKernels } from './kernels/matmul.ts';
import { normKernels } from './kernels/norm.ts';
import { productKeyKernels } from './kernels/product-key.ts';
import { reduceKernels } from './kernels/reduce.ts';
import { routingKernels } from './kernels/routing.ts';
import { shapeKernels } from './kernels/shape.ts';
import { collectiveOps } from './kernels/collectives.ts';
import { formatShape, isFloatType, type Kernel, type Tensor } from './tensor.ts';

export const kernels: Record<string, Kernel> = {
  ...elementwiseKernels, ...reduceKernels, ...normKernels, ...shapeKernels, ...matmulKernels,
  ...attentionKernels, ...dftKernels, ...routingKernels, ...productKeyKernels, ...lossKernels, ...fusedKernels,
};

export interface ExecuteOptions {
  /** Values (by reference, e.g. `%h3`) to keep and return besides the outputs, e.g. for op-by-op comparison. */
  keep?: (value: string) => boolean;
}

export interface ExecuteResult {
  /** By output name. */
  outputs: Record<string, Tensor>;
  /** The computed values `keep` asked for, by reference; present only when `keep` is given. */
  values?: Map<string, Tensor>;
}

export class ExecutionError extends Error {
  constructor(message: string, readonly nodeIndex?: number, readonly op?: string) {
    super(message);
    this.name = 'ExecutionError';
  }
}

function describeNode(n: Node, idx: number): string {
  return `node ${idx} (${n.outputs.join(', ')} = ${n.op}${n.loc ? ` at ${n.loc}` : ''})`;
}

function formatDeclared(t: TensorType, shape: readonly number[]): string {
  const symbolic = t.shape.some((d) => typeof d === 'string');
  return `${t.dtype}[${t.shape.join(', ')}]${symbolic ? ` = ${formatShape(shape)}` : ''}`;
}

/** The concrete shape of a declared type; fails when a symbol has no size. */
function concreteShape(t: TensorType, sizes: Readonly<Record<string, number>>): number[] {
  return t.shape.map((d) => evalDim(d, sizes));
}

/** Why a tensor does not fit a declared type (shape, and float versus integer storage), or undefined. */
function mismatch(t: Tensor, want: TensorType, shape: readonly number[]): string | undefined {
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) return 'shape';
  if (isFloatType(want.dtype) !== (t.data instanceof Float32Array)) return 'dtype';
  if (t.data.length !== t.shape.reduce((a, b) => a * b, 1)) return 'size';
  return undefined;
}

/** One rank's run of a graph, a node at a time: what execute() does in a loop, and executeRanks() in lockstep. */
export interface Interpreter {
  /** Runs node `idx` with its kernel. */
  node(idx: number): void;
  /** The operands of node `idx`. */
  operands(idx: number): Tensor[];
  /** Checks and stores the results of node `idx` (computed elsewhere: a collective over every rank). */
  deliver(idx: number, results: Tensor[]): void;
  outputs(): ExecuteResult;
}

/**
 * Runs `graph` on concrete tensors. `params` supplies each parameter by name (without `@`), `inputs` each graph
 * input by name (without `%`), `sizes` the symbolic dimensions (e.g. { batch: 2, seq: 16 }). Every operand and
 * every result with a declared type is checked against it. A value is dropped after its last use unless it is a
 * graph output or `keep` asks for it, so memory stays bounded by the live set.
 */
export function execute(
  graph: Graph, params: (name: string) => Tensor, inputs: Record<string, Tensor>, sizes: Record<string, number>, options: ExecuteOptions = {},
): ExecuteResult {
  const run = interpreter(graph, params, inputs, sizes, options);
  graph.nodes.forEach((_, idx) => run.node(idx));
  return run.outputs();
}

export function interpreter(
  graph: Graph, params: (name: string) => Tensor, inputs: Record<string, Tensor>, sizes: Record<string, number>, options: ExecuteOptions = {},
): Interpreter {
  const sized = (t: TensorType, what: string): number[] => {
    try {
      return concreteShape(t, sizes);
    } catch (e) {
      throw new ExecutionError(`${what}: ${(e as Error).message} (sizes given: ${JSON.stringify(sizes)})`);
    }
  };

  const env = new Map<string, Tensor>();
  const declaredInputs = new Set(graph.inputs.map((i) => i.name));
  for (const name of Object.keys(inputs)) {
    if (!declaredInputs.has(name)) throw new ExecutionError(`unknown input '${name}' (the graph takes: ${[...declaredInputs].join(', ') || 'none'})`);
  }
  for (const i of graph.inputs) {
    const t = inputs[i.name];
    if (!t) throw new ExecutionError(`missing input '${i.name}' (${i.type.dtype}[${i.type.shape.join(', ')}])`);
    const shape = sized(i.type, `input '${i.name}'`);
    const bad = mismatch(t, i.type, shape);
    if (bad) throw new ExecutionError(`input '${i.name}' is ${t.dtype}${formatShape(t.shape)} but the graph declares ${formatDeclared(i.type, shape)}`);
    env.set(`%${i.name}`, t);
  }

  const declaredParams = new Map(graph.params.map((p) => [p.name, p.type]));
  const paramCache = new Map<string, Tensor>();
  const param = (ref: string, where: string): Tensor => {
    const name = ref.slice(1);
    const cached = paramCache.get(name);
    if (cached) return cached;
    const type = declaredParams.get(name);
    if (!type) throw new ExecutionError(`${where}: ${ref} is not a declared parameter`);
    const t = params(name) as Tensor | undefined;
    if (!t) throw new ExecutionError(`${where}: no tensor was supplied for parameter ${ref}`);
    const shape = sized(type, `parameter ${ref}`);
    if (mismatch(t, type, shape)) throw new ExecutionError(`parameter ${ref} is ${t.dtype}${formatShape(t.shape)} but the graph declares ${formatDeclared(type, shape)}`);
    paramCache.set(name, t);
    return t;
  };

  // The last node reading each value; values never read are dropped as soon as they are made.
  const lastUse = new Map<string, number>();
  graph.nodes.forEach((n, i) => n.inputs.forEach((r) => lastUse.set(r, i)));
  const pinned = new Set(graph.outputs.map((o) => o.value));
  const kept = new Map<string, Tensor>();
  const release = (ref: string, idx: number) => {
    if ((lastUse.get(ref) ?? -1) <= idx && !pinned.has(ref)) env.delete(ref);
  };

  const operands = (idx: number): Tensor[] => {
    const n = graph.nodes[idx]!;
    const where = describeNode(n, idx);
    return n.inputs.map((r) => {
      if (r.startsWith('@')) return param(r, where);
      const v = env.get(r);
      if (!v) throw new ExecutionError(`${where}: operand ${r} has no value (not defined before this node)`, idx, n.op);
      return v;
    });
  };
  const outShapesOf = (idx: number): number[][] => {
    const n = graph.nodes[idx]!;
    return (n.types ?? []).map((t, k) => sized(t, `${describeNode(n, idx)}: result ${n.outputs[k]}`));
  };
  const deliver = (idx: number, results: Tensor[]): void => {
    const n = graph.nodes[idx]!;
    const where = describeNode(n, idx);
    if (results.length !== n.outputs.length) {
      throw new ExecutionError(`${where}: the kernel made ${results.length} results for ${n.outputs.length} outputs`, idx, n.op);
    }
    const outShapes = outShapesOf(idx);
    results.forEach((t, k) => {
      const type = n.types?.[k];
      if (type) {
        const want = outShapes[k]!;
        const bad = mismatch(t, type, want);
        if (bad) {
          throw new ExecutionError(`${where}: result ${n.outputs[k]} was computed as ${t.dtype}${formatShape(t.shape)} but the graph declares ${formatDeclared(type, want)} (${bad} mismatch)`, idx, n.op);
        }
      }
      const ref = n.outputs[k]!;
      env.set(ref, t);
      if (options.keep?.(ref)) kept.set(ref, t);
      release(ref, idx);
    });
    for (const r of n.inputs) if (!r.startsWith('@')) release(r, idx);
  };
  const node = (idx: number): void => {
    const n = graph.nodes[idx]!;
    const where = describeNode(n, idx);
    const kernel = kernels[n.op];
    if (!kernel) throw new ExecutionError(`${where}: the reference executor has no kernel for '${n.op}'${collectiveOps.has(n.op) ? ' (a collective: run the ranks together with executeRanks)' : ''}`, idx, n.op);
    const ins = operands(idx);
    let results: Tensor[];
    try {
      results = kernel(ins, n.attrs, { sizes, outShapes: outShapesOf(idx) });
    } catch (e) {
      const described = ins.map((t, k) => `${n.inputs[k]}: ${t.dtype}${formatShape(t.shape)}`).join(', ');
      throw new ExecutionError(`${where}: ${(e as Error).message} (operands ${described || 'none'})`, idx, n.op);
    }
    deliver(idx, results);
  };

  const outputs = (): ExecuteResult => {
    const outputs: Record<string, Tensor> = {};
    for (const o of graph.outputs) {
      const t = o.value.startsWith('@') ? param(o.value, `output '${o.name}'`) : env.get(o.value);
      if (!t) throw new ExecutionError(`output '${o.name}' refers to ${o.value}, which no node computes`);
      outputs[o.name] = t;
    }
    return options.keep ? { outputs, values: kept } : { outputs };
  };
  return { node, operands, deliver, outputs };
}
