// How to run a spec on a checkpoint `moec convert --kv-heads N` wrote: the spec itself is not rewritten, so find the
// param whose `--set NAME=N` gives exactly the converted parameter shapes (kv_heads pooled, nothing else changed), or
// say which field to edit.
import { check } from '../../compiler/api.ts';
import { lowerModel } from '../../compiler/lower/model.ts';
import type { ModelSpec } from '../../compiler/spec/types.ts';
import type { PooledParam } from '../../runtime/weights/kv-heads.ts';

const shapes = (spec: ModelSpec) => new Map(lowerModel(spec).params.map((p) => [p.name, p.type.shape.join('x')]));

function sameShapes(a: Map<string, string>, b: Map<string, string>): boolean {
  return a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);
}

export function kvHeadsHint(file: string, sets: Record<string, string>, model: string | undefined, spec: ModelSpec, plan: readonly PooledParam[], n: number): string {
  if (plan.length === 0) return 'the spec runs it as it is';
  const want = shapes(spec);
  for (const p of plan) want.set(p.param, [(p.shape[0]! / p.heads) * n, ...p.shape.slice(1)].join('x'));
  const params = new Set(check(file, { model }).program.modules.flatMap((m) => m.statements)
    .flatMap((s) => (s.kind === 'let' && s.overridable ? [s.name.name] : [])));
  for (const name of params) {
    const trial = { ...sets, [name]: String(n) };
    const c = check(file, { set: trial, model });
    if (c.model && sameShapes(shapes(c.model), want)) {
      return `run it with ${Object.entries(trial).map(([k, v]) => `--set ${k}=${v}`).join(' ')}`;
    }
  }
  const where = [...new Set(plan.map((p) => p.param.replace(/^(\w+)\.\d+\.(\w+)\..*$/, '$1.*.$2')))].join(', ');
  return `no param of the spec sets kv_heads alone: to run it, set kv_heads: ${n} in the attention of ${file} (${where})`;
}
