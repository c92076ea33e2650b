// Hover over a component's name: its kind and, where the model uses it, what it computes (shapes) and how many
// parameters it has per use and in all (active: what one token uses).
import { check } from '../../compiler/api.ts';
import { lowerModel } from '../../compiler/lower/model.ts';
import { kinds } from '../../compiler/spec/schema.ts';
import type { Analysis } from './analyze.ts';
import { countParams, useParams, type ParamCount } from './component-params.ts';
import { modelSummary, summarize, useSpec } from './component-summary.ts';
import { componentUses, type Use } from './component-uses.ts';
import { formatCount, formatIndices } from './format.ts';

export function componentHover(a: Analysis, name: string, kind: string): string {
  const head = ['```moe', `${kind} ${name}`, '```'];
  const body = kind === 'model' ? modelLines(a, name) : usedLines(a, name, kind);
  const doc = kinds[kind]?.doc;
  return [...head, ...body, ...(doc ? ['', `*${kind}*: ${doc}`] : [])].join('\n');
}

function modelLines(a: Analysis, name: string): string[] {
  const model = a.checked.model?.name === name ? a.checked.model : attempt(() => check(a.path, { model: name }, a.text).model);
  if (!model) return [];
  const graph = attempt(() => lowerModel(model));
  if (!graph) return [`${kindLine('model', modelSummary(model))}`];
  const { total, active } = countParams(graph.params);
  const byComponent = new Map<string, number>();
  for (const p of graph.params) {
    const top = p.name.split('.')[0]!;
    byComponent.set(top, (byComponent.get(top) ?? 0) + countParams([p]).total);
  }
  return [
    kindLine('model', modelSummary(model)),
    '',
    `Parameters: ${formatCount(total)}${active !== total ? ` (active ${formatCount(active)})` : ''}`,
    '',
    ...[...byComponent].map(([k, n]) => `- \`${k}\`: ${formatCount(n)}`),
  ];
}

function usedLines(a: Analysis, name: string, kind: string): string[] {
  const model = a.checked.model;
  if (!model) return [];
  const uses = componentUses(a.program.scope, model.name).get(name) ?? [];
  if (uses.length === 0) return [`Not used by model \`${model.name}\`.`];
  const first = uses[0]!;
  const spec = useSpec(model, first);
  const lines = spec ? [kindLine(kind, summarize(spec, first.slot))] : [];
  if (first.slot !== 'stack') lines.push('', `Input and output: [batch, seq, ${model.dModel}]`);
  const groups = groupUses(uses).map((g) => ({ ...g, counts: g.uses.map((u) => attempt(() => useParams(model, u))).map((p) => (p ? countParams(p) : undefined)) }));
  const params = attempt(() => useParams(model, first));
  if (groups.length === 1) {
    lines.push('', `Used by \`${model.name}\`: ${groups[0]!.label}`, '', countLines(groups[0]!.uses[0]!, groups[0]!.counts).join('; '));
  } else {
    lines.push('', `Used by \`${model.name}\`:`, '', ...groups.map((g) => `- ${g.label}: ${countLines(g.uses[0]!, g.counts).join('; ').replace(/^Parameters/, 'parameters')}`));
  }
  if (params && params.length > 0 && first.slot !== 'stack') lines.push('', ...params.map((p) => `- \`${p.name}\` [${p.type.shape.join(', ')}]`));
  return lines;
}

function countLines(use: Use, counts: (ParamCount | undefined)[]): string[] {
  const known = counts.filter((c): c is ParamCount => c !== undefined);
  if (known.length === 0) return [];
  const show = (c: ParamCount) => `${formatCount(c.total)}${c.active !== c.total ? ` (active ${formatCount(c.active)})` : ''}`;
  const unit = use.slot === 'stack' ? ' in the stack' : use.layer >= 0 ? ' per layer' : '';
  const same = known.every((c) => c.total === known[0]!.total && c.active === known[0]!.active);
  const each = same ? show(known[0]!) : `from ${formatCount(Math.min(...known.map((c) => c.total)))} to ${formatCount(Math.max(...known.map((c) => c.total)))}`;
  const out = [`Parameters${unit}: ${each}`];
  if (known.length > 1) {
    const sum = known.reduce((s, c) => ({ total: s.total + c.total, active: s.active + c.active }), { total: 0, active: 0 });
    out.push(`in all ${known.length} layers: ${show(sum)}`);
  }
  return out;
}

function kindLine(kind: string, summary: string): string {
  return `${kind}: ${summary}`;
}

/** Uses by stack and slot, labelled "decoder layers 0–31 (ffn)" or "decoder final_norm". */
export function groupUses(uses: readonly Use[]): { label: string; uses: Use[] }[] {
  const groups = new Map<string, Use[]>();
  for (const u of uses) {
    const key = `${u.stack}|${u.slot}|${u.layer < 0}`;
    groups.set(key, [...(groups.get(key) ?? []), u]);
  }
  return [...groups.values()].map((g) => {
    const u = g[0]!;
    if (u.layer < 0) return { label: u.slot === 'stack' ? `${u.stack}` : `${u.stack} ${u.slot}`, uses: g };
    return { label: `${u.stack} layer${g.length === 1 ? '' : 's'} ${formatIndices(g.map((x) => x.layer))} (${u.slot})`, uses: g };
  });
}

function attempt<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}
