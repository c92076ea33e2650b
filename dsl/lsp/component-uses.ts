// Where a model uses each named component: evaluates the model's stacks layer by layer, as the checker builds them,
// and records which slot of which layer holds an object defined under a name.
import { evaluate } from '../../compiler/spec/evaluate.ts';
import type { EvalContext, ObjectValue, Scope, Value } from '../../compiler/spec/values.ts';

export type Slot = 'stack' | 'block' | 'norm' | 'attention' | 'cross_attention' | 'ffn' | 'final_norm';
export type StackName = 'encoder' | 'decoder';

export interface Use {
  stack: StackName;
  /** The layer index; -1 for the stack itself and its final norm. */
  layer: number;
  slot: Slot;
}

const blockSlots = ['norm', 'attention', 'cross_attention', 'ffn'] as const;
const MAX_LAYERS = 4096;

export function componentUses(scope: Scope, modelName: string): Map<string, Use[]> {
  const uses = new Map<string, Use[]>();
  const record = (v: Value | undefined, use: Use) => {
    if (v?.t === 'object' && v.name) uses.set(v.name, [...(uses.get(v.name) ?? []), use]);
  };
  const binding = scope.bindings.get(modelName);
  const model = binding ? attempt(() => evaluate(binding.expr, scope, {})) : undefined;
  if (model?.t !== 'object') return uses;
  for (const stack of ['encoder', 'decoder'] as const) {
    const s = field(model, stack, {});
    if (s?.t !== 'object') continue;
    record(s, { stack, layer: -1, slot: 'stack' });
    const n = field(s, 'layers', {});
    const layers = n?.t === 'number' && Number.isInteger(n.v) ? Math.min(Math.max(n.v, 0), MAX_LAYERS) : 0;
    for (let layer = 0; layer < layers; layer++) {
      const ctx: EvalContext = { layer, layers };
      const block = field(s, 'block', ctx);
      if (block?.t !== 'object') continue;
      record(block, { stack, layer, slot: 'block' });
      for (const slot of blockSlots) record(field(block, slot, ctx), { stack, layer, slot });
    }
    record(field(s, 'final_norm', {}), { stack, layer: -1, slot: 'final_norm' });
  }
  return uses;
}

function field(obj: ObjectValue, key: string, ctx: EvalContext): Value | undefined {
  const f = obj.fields.get(key);
  return f ? attempt(() => evaluate(f.expr, f.scope, ctx)) : undefined;
}

function attempt<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}
