// moec summary FILE: a table per block (parameters, active parameters, FLOPs per token, activation memory), with
// totals equal to `moec stats`' (compiler/summary.ts).
import { lower } from '../../compiler/api.ts';
import { summarize, type SummaryCounts, type ModelSummary } from '../../compiler/summary.ts';
import { parseSets, UsageError } from '../output.ts';

const fmt = (n: number) => n.toLocaleString('en-US');
const bytes = (n: number) => (n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(2)} GiB` : n >= 2 ** 20 ? `${(n / 2 ** 20).toFixed(1)} MiB` : n >= 1024 ? `${(n / 2 ** 10).toFixed(1)} KiB` : `${n} B`);

/** The summary as an aligned text table: blocks of a layer indented under it, totals last. */
export function formatSummary(s: ModelSummary): string {
  const cells = (name: string, c: SummaryCounts) => [name, fmt(c.params), fmt(c.active_params), fmt(c.flops_per_token), bytes(c.activation_bytes)];
  const header = ['block', 'params', 'active params', 'FLOPs/token', 'activations'];
  const body = s.rows.map((r) => cells(r.depth === 0 ? r.block : `  ${r.block.split('.').slice(2).join('.')}`, r));
  const total = cells('total', s.total);
  const all = [header, ...body, total];
  const widths = header.map((_, i) => Math.max(...all.map((row) => row[i]!.length)));
  const line = (row: string[]) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const rule = '-'.repeat(line(header).length);
  return [`${s.model}: batch 1, seq ${s.seq}; FLOPs count matrix products, a multiply-add as 2; activations are the values each block computes`,
    line(header), rule, ...body.map(line), rule, line(total)].join('\n');
}

export function summaryCommand(file: string, opts: { set?: string[]; model?: string; json?: boolean; seq: string }): void {
  const seq = Number(opts.seq);
  if (!Number.isInteger(seq) || seq < 1) throw new UsageError(`--seq must be a positive integer, got '${opts.seq}'`);
  const s = summarize(lower(file, { set: parseSets(opts.set), model: opts.model }), seq);
  process.stdout.write(opts.json ? `${JSON.stringify(s, null, 2)}\n` : `${formatSummary(s)}\n`);
}
