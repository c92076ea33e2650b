// moec stats FILE: parameters (total, routed experts, active per token) and FLOPs per token, from the IR.
import { stats } from '../../compiler/api.ts';
import { parseSets, UsageError } from '../output.ts';

const fmt = (n: number) => n.toLocaleString('en-US');
const human = (n: number) => (n >= 1e12 ? `${(n / 1e12).toFixed(2)}T` : n >= 1e9 ? `${(n / 1e9).toFixed(2)}B` : n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}K` : String(n));

export function statsCommand(file: string, opts: { set?: string[]; model?: string; json?: boolean; seq: string }): void {
  const seq = Number(opts.seq);
  if (!Number.isInteger(seq) || seq < 1) throw new UsageError(`--seq must be a positive integer, got '${opts.seq}'`);
  const s = stats(file, { set: parseSets(opts.set), model: opts.model, seq });
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
    return;
  }
  const rows: [string, number][] = [
    ['total parameters', s.total_params],
    ['routed expert parameters', s.expert_params],
    ['active parameters per token', s.active_params],
    [`forward FLOPs per token (seq ${s.seq})`, s.flops_per_token],
    ...Object.entries(s.params_by_component).map(([k, v]): [string, number] => [`  parameters in ${k}`, v]),
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  const v = Math.max(...rows.map(([, n]) => fmt(n).length));
  process.stdout.write(`${s.model}\n${rows.map(([k, n]) => `${k.padEnd(w)}  ${fmt(n).padStart(v)}  ${human(n)}`).join('\n')}\n`);
}
