// moec ir FILE: the graph IR after any pass, as text, JSON or Graphviz DOT.
import { graphToDot, graphToJson, lower, passNames, printGraph } from '../../compiler/api.ts';
import { graphPasses } from '../../compiler/passes/pipeline.ts';
import { emit, parseSets, UsageError } from '../output.ts';

interface IrOptions {
  set?: string[];
  model?: string;
  listPasses?: boolean;
  after?: string;
  disable?: string[];
  format: 'text' | 'json' | 'dot';
  out?: string;
}

export function irCommand(file: string | undefined, opts: IrOptions): void {
  if (opts.listPasses) {
    const lines = ['lower  the graph straight from the checked spec', ...graphPasses.map((p) => `${p.name}  ${p.description}`)];
    const w = Math.max(...passNames().map((n) => n.length));
    emit(lines.map((l) => { const [n, ...d] = l.split('  '); return `${n!.padEnd(w)}  ${d.join('  ')}`; }).join('\n'));
    return;
  }
  if (!file) throw new UsageError('moec ir needs a .moe file (or --list-passes)');
  const g = lower(file, { set: parseSets(opts.set), model: opts.model, after: opts.after, disable: opts.disable });
  const text = opts.format === 'json' ? graphToJson(g) : opts.format === 'dot' ? graphToDot(g) : printGraph(g);
  emit(text, opts.out);
}
