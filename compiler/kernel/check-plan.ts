// A static check of a memory plan against its program, independent of the planner: lifetimes recomputed from the
// kernels' buffer lists (a view counts as its storage; a program output that is a view of a temporary keeps that
// temporary alive to the end of the run, when the outputs are read), then no two temporaries whose lifetimes overlap
// may share a slot, each must fit its slot's dtype and size, and none may be read before a kernel writes it.
import { normDim } from '../ir/dims.ts';
import type { KernelProgram } from './ir.ts';
import type { MemoryPlan } from './memory-plan.ts';

/** The problems found; empty when the plan is sound. */
export function checkMemoryPlan(p: KernelProgram, plan: MemoryPlan): string[] {
  const byName = new Map(p.buffers.map((b) => [b.name, b]));
  const root = (name: string) => byName.get(name)?.aliasOf ?? name;
  const isTemp = (name: string) => byName.get(name)?.kind === 'temp' && !byName.get(name)!.aliasOf;
  const problems: string[] = [];
  const live = new Map<string, [number, number]>();
  p.kernels.forEach((k, i) => {
    for (const b of k.buffers) {
      const r = root(b.name);
      if (!isTemp(r)) continue;
      const span = live.get(r);
      if (!span && b.access === 'read') problems.push(`${k.name} reads ${r} before any kernel writes it`);
      live.set(r, span ? [span[0], i] : [i, i]);
    }
  });
  const end = p.kernels.length;
  for (const o of p.outputs) {
    const r = root(o.buffer);
    const span = live.get(r);
    if (span && isTemp(r)) live.set(r, [span[0], end]);
  }
  const bySlot = new Map<number, string[]>();
  for (const [name, span] of live) {
    const slot = plan.slotOf.get(name);
    if (slot === undefined) {
      problems.push(`${name} (live in kernels ${span[0]}–${span[1]}) has no slot`);
      continue;
    }
    const s = plan.slots[slot]!;
    const b = byName.get(name)!;
    if (s.dtype !== b.dtype || normDim(s.size) !== normDim(b.size)) problems.push(`${name} (${b.dtype}[${b.size}]) does not fit slot ${slot} (${s.dtype}[${s.size}])`);
    bySlot.set(slot, [...(bySlot.get(slot) ?? []), name]);
  }
  for (const [slot, names] of bySlot) {
    const spans = names.map((n) => [n, live.get(n)!] as const).sort((a, b) => a[1][0] - b[1][0]);
    // Against the one of the earlier spans that lives longest: any overlap shows there.
    let [a, [a0, a1]] = spans[0]!;
    for (const [b, [b0, b1]] of spans.slice(1)) {
      if (b0 <= a1) problems.push(`slot ${slot} holds ${a} (live in kernels ${a0}–${a1}) and ${b} (live in kernels ${b0}–${b1}) at once`);
      if (b1 > a1) [a, a0, a1] = [b, b0, b1];
    }
  }
  return problems;
}
