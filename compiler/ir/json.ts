// The graph IR as JSON: the same plain data, with its structure checked on the way back in.
import type { Graph } from './types.ts';

export function graphToJson(g: Graph): string {
  const ordered = { name: g.name, inputs: g.inputs, params: g.params, nodes: g.nodes, outputs: g.outputs };
  return `${JSON.stringify(ordered, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2)}\n`;
}

function fail(path: string, what: string): never {
  throw new Error(`${path}: expected ${what}`);
}

function str(v: unknown, path: string): string {
  return typeof v === 'string' ? v : fail(path, 'a string');
}

function arr(v: unknown, path: string): unknown[] {
  return Array.isArray(v) ? v : fail(path, 'an array');
}

function obj(v: unknown, path: string): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : fail(path, 'an object');
}

function type(v: unknown, path: string) {
  const o = obj(v, path);
  const shape = arr(o.shape, `${path}.shape`).map((d, i) => (typeof d === 'number' || typeof d === 'string' ? d : fail(`${path}.shape[${i}]`, 'a number or a symbolic dimension')));
  return { dtype: str(o.dtype, `${path}.dtype`) as Graph['inputs'][number]['type']['dtype'], shape };
}

export function graphFromJson(text: string): Graph {
  const g = obj(JSON.parse(text), 'graph');
  return {
    name: str(g.name, 'name'),
    inputs: arr(g.inputs, 'inputs').map((x, i) => ({ name: str(obj(x, `inputs[${i}]`).name, `inputs[${i}].name`), type: type(obj(x, `inputs[${i}]`).type, `inputs[${i}].type`) })),
    params: arr(g.params, 'params').map((x, i) => {
      const p = obj(x, `params[${i}]`);
      return { name: str(p.name, `params[${i}].name`), type: type(p.type, `params[${i}].type`), attrs: obj(p.attrs ?? {}, `params[${i}].attrs`) as Graph['params'][number]['attrs'] };
    }),
    nodes: arr(g.nodes, 'nodes').map((x, i) => {
      const n = obj(x, `nodes[${i}]`);
      const node: Graph['nodes'][number] = {
        op: str(n.op, `nodes[${i}].op`),
        inputs: arr(n.inputs, `nodes[${i}].inputs`).map((r, j) => str(r, `nodes[${i}].inputs[${j}]`)),
        outputs: arr(n.outputs, `nodes[${i}].outputs`).map((r, j) => str(r, `nodes[${i}].outputs[${j}]`)),
        attrs: obj(n.attrs ?? {}, `nodes[${i}].attrs`) as Graph['nodes'][number]['attrs'],
      };
      if (n.types !== undefined) node.types = arr(n.types, `nodes[${i}].types`).map((t, j) => type(t, `nodes[${i}].types[${j}]`));
      if (n.loc !== undefined) node.loc = str(n.loc, `nodes[${i}].loc`);
      return node;
    }),
    outputs: arr(g.outputs, 'outputs').map((x, i) => ({ name: str(obj(x, `outputs[${i}]`).name, `outputs[${i}].name`), value: str(obj(x, `outputs[${i}]`).value, `outputs[${i}].value`) })),
  };
}
