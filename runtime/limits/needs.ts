// The bytes a run needs, from the graph and the memory planner, at the run's sizes: what checkFits compares.
import { evalDim, numel } from '../../compiler/ir/dims.ts';
import type { Graph } from '../../compiler/ir/types.ts';
import { memoryReport, planMemory } from '../../compiler/kernel/memory-plan.ts';
import { scheduleGraph } from '../../compiler/kernel/schedule.ts';
import type { Needs } from './fits.ts';

export function runNeeds(graph: Graph, sizes: Record<string, number>): Needs {
  const program = scheduleGraph(graph);
  const report = memoryReport(program, planMemory(program), sizes);
  let paramBytes = 0;
  let largest = { name: '', elements: 0 };
  for (const p of graph.params) {
    const n = evalDim(numel(p.type.shape), sizes);
    paramBytes += n * 4;
    if (n > largest.elements) largest = { name: `parameter @${p.name}`, elements: n };
  }
  for (const b of program.buffers) {
    if (b.kind === 'param' || b.aliasOf) continue;
    const n = evalDim(b.size, sizes);
    if (n > largest.elements) largest = { name: `buffer ${b.name}`, elements: n };
  }
  const at = Object.entries(sizes).map(([k, v]) => `${k} ${v}`).join(', ');
  return { model: graph.name, paramBytes, activationBytes: report.plannedBytes, largest, at };
}
