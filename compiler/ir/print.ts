// The textual form of the graph IR. parse.ts reads it back to the same graph.
import type { Attr, Graph, Node, TensorType } from './types.ts';

export function formatNumber(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (n === Infinity) return 'inf';
  if (n === -Infinity) return '-inf';
  if (Object.is(n, -0)) return '-0.0';
  return String(n);
}

function formatAttr(v: Attr): string {
  if (typeof v === 'number') return formatNumber(v);
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return JSON.stringify(v);
  return `[${v.map((d) => (typeof d === 'number' ? formatNumber(d) : d)).join(', ')}]`;
}

export function formatAttrs(attrs: Record<string, Attr>): string {
  const keys = Object.keys(attrs).sort();
  return keys.length === 0 ? '' : ` {${keys.map((k) => `${k} = ${formatAttr(attrs[k]!)}`).join(', ')}}`;
}

export function formatTensorType(t: TensorType): string {
  return `${t.dtype}[${t.shape.join(', ')}]`;
}

export function printNode(n: Node): string {
  let s = `${n.outputs.join(', ')} = ${n.op}(${n.inputs.join(', ')})${formatAttrs(n.attrs)}`;
  if (n.types) s += ` : ${n.types.map(formatTensorType).join(', ')}`;
  if (n.loc !== undefined) s += ` loc(${JSON.stringify(n.loc)})`;
  return s;
}

export function printGraph(g: Graph): string {
  const lines = [`graph ${g.name} {`];
  for (const i of g.inputs) lines.push(`  input %${i.name}: ${formatTensorType(i.type)}`);
  for (const p of g.params) lines.push(`  param @${p.name}: ${formatTensorType(p.type)}${formatAttrs(p.attrs)}`);
  for (const n of g.nodes) lines.push(`  ${printNode(n)}`);
  for (const o of g.outputs) lines.push(`  output ${o.name} = ${o.value}`);
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
