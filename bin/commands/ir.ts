// moec ir FILE: the graph IR after any pass, as text, JSON, Graphviz DOT or that picture drawn as SVG.
import { graphToDot, graphToJson, lower, passNames, printGraph } from '../../compiler/api.ts';
import { graphPasses } from '../../compiler/passes/pipeline.ts';
import { memoryReport, planMemory } from '../../compiler/kernel/memory-plan.ts';
import { printProgram } from '../../compiler/kernel/print.ts';
import { scheduleGraph } from '../../compiler/kernel/schedule.ts';
import { emit, parseExpertParallel, parseSets, UsageError } from '../output.ts';

interface IrOptions {
  set?: string[];
  model?: string;
  listPasses?: boolean;
  after?: string;
  disable?: string[];
  format: 'text' | 'json' | 'dot' | 'svg';
  out?: string;
  stage: 'graph' | 'kernel';
  seq: string;
  target?: string;
  expertParallel?: string;
}

export async function irCommand(file: string | undefined, opts: IrOptions): Promise<void> {
  if (opts.listPasses) {
    const lines = ['lower  the graph straight from the checked spec', ...graphPasses.map((p) => `${p.name}  ${p.description}`)];
    const w = Math.max(...passNames().map((n) => n.length));
    emit(lines.map((l) => { const [n, ...d] = l.split('  '); return `${n!.padEnd(w)}  ${d.join('  ')}`; }).join('\n'));
    return;
  }
  if (!file) throw new UsageError('moec ir needs a .moe file (or --list-passes)');
  if (opts.target && opts.stage !== 'kernel') throw new UsageError('--target shows a target\'s kernels: use it with --stage kernel');
  if (opts.stage === 'kernel' && opts.after === 'lower') throw new UsageError('--stage kernel needs types: pick a pass from shape-inference on for --after');
  const g = lower(file, { set: parseSets(opts.set), model: opts.model, after: opts.after, disable: opts.disable, expertParallel: parseExpertParallel(opts.expertParallel) });
  if (opts.stage === 'kernel') {
    if (opts.format !== 'text') throw new UsageError('--stage kernel prints text only');
    let program = scheduleGraph(g);
    if (opts.target === 'wasm') {
      const { gemmConfig, gemmScratch, panelWidth } = await import('../../targets/wasm/gemm.ts');
      const { tensorize } = await import('../../targets/wasm/tensorize.ts');
      program = tensorize(program, { nr: panelWidth(gemmConfig(true)), gemmScratch });
    } else if (opts.target !== undefined) throw new UsageError(`--target ${opts.target}: the targets are: wasm`);
    const seq = Number(opts.seq);
    const r = memoryReport(program, planMemory(program), { batch: 1, seq, dec_seq: seq });
    const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
    const header = [
      `// ${program.kernels.length} kernels; ${r.buffers} temporaries in ${r.slots} planned buffers`,
      `// activations at batch 1, seq ${seq}: ${mib(r.plannedBytes)} planned (${mib(r.unplannedBytes)} without reuse); parameters ${mib(r.paramBytes)}`,
    ];
    emit(`${header.join('\n')}\n${printProgram(program)}`, opts.out);
    return;
  }
  if (opts.format === 'svg') {
    const { dotToSvg } = await import('../../compiler/ir/svg.ts');
    emit(await dotToSvg(graphToDot(g)), opts.out);
    return;
  }
  const text = opts.format === 'json' ? graphToJson(g) : opts.format === 'dot' ? graphToDot(g) : printGraph(g);
  emit(text, opts.out);
}
