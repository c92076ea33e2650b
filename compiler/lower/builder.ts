// A small helper for emitting graph IR: numbered SSA values, declared parameters, the current location.
import type { Attr, Dim, DType, Graph, Input, Node, Output, Param } from '../ir/types.ts';

export class GraphBuilder {
  readonly params: Param[] = [];
  readonly nodes: Node[] = [];
  readonly inputs: Input[] = [];
  readonly outputs: Output[] = [];
  private readonly paramNames = new Set<string>();
  private next = 0;
  private alias?: { from: string; to: string };
  loc = '';

  constructor(readonly name: string, readonly dtype: DType = 'f32') {}

  input(name: string, dtype: DType, shape: Dim[]): string {
    this.inputs.push({ name, type: { dtype, shape } });
    return `%${name}`;
  }

  /** Declares a parameter once; later calls with the same name reuse it (shared tables, tied weights). */
  param(declared: string, shape: Dim[], attrs: Record<string, Attr> = {}): string {
    const a = this.alias;
    const name = a && declared.startsWith(a.from) ? a.to + declared.slice(a.from.length) : declared;
    if (!this.paramNames.has(name)) {
      this.paramNames.add(name);
      this.params.push({ name, type: { dtype: this.dtype, shape }, attrs });
    }
    return `@${name}`;
  }

  op(op: string, inputs: string[], attrs: Record<string, Attr> = {}): string {
    return this.opN(op, inputs, 1, attrs)[0]!;
  }

  opN(op: string, inputs: string[], results: number, attrs: Record<string, Attr> = {}): string[] {
    const outputs = Array.from({ length: results }, () => `%${this.next++}`);
    const node: Node = { op, inputs, outputs, attrs };
    if (this.loc) node.loc = this.loc;
    this.nodes.push(node);
    return outputs;
  }

  output(name: string, value: string): void {
    this.outputs.push({ name, value });
  }

  /** While `body` runs, parameters named from…  are declared as to… (a block reusing another layer's weights). */
  aliasing<T>(from: string, to: string, body: () => T): T {
    const saved = this.alias;
    this.alias = from === to ? undefined : { from, to };
    try {
      return body();
    } finally {
      this.alias = saved;
    }
  }

  at<T>(loc: string, body: () => T): T {
    const saved = this.loc;
    this.loc = loc;
    try {
      return body();
    } finally {
      this.loc = saved;
    }
  }

  graph(): Graph {
    return { name: this.name, inputs: this.inputs, params: this.params, nodes: this.nodes, outputs: this.outputs };
  }
}
