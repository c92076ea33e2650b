// moec convert FILE --weights PATH --kv-heads N -o OUT.safetensors: a multi-head checkpoint uptrained to grouped-query
// attention (GQA, Ainslie et al. 2023 §2.1: each key/value head the mean of its group's heads); N = 1 is multi-query.
import { existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { checkOrThrow } from '../../compiler/api.ts';
import { openCheckpoint, writeSafetensors } from '../../runtime/safetensors/index.ts';
import { convertKvHeads, kvHeadsPlan } from '../../runtime/weights/kv-heads.ts';
import { parseSets, printJson, UsageError } from '../output.ts';
import { progressBar } from '../progress.ts';
import { withReadProgress } from '../../runtime/weights/read-progress.ts';
import { kvHeadsHint } from './kv-heads-hint.ts';

export interface ConvertOptions {
  set?: string[];
  model?: string;
  weights: string;
  kvHeads: string;
  out: string;
  json?: boolean;
  quiet?: boolean;
}

export function convertCommand(file: string, opts: ConvertOptions): void {
  const n = Number(opts.kvHeads);
  if (!/^\s*\d+\s*$/.test(opts.kvHeads) || n < 1) throw new UsageError(`--kv-heads must be a positive integer, got '${opts.kvHeads}'`);
  const outDir = dirname(opts.out);
  if (!existsSync(outDir) || !statSync(outDir).isDirectory()) throw new UsageError(`--out ${opts.out}: the folder ${outDir} does not exist`);
  const sets = parseSets(opts.set);
  const spec = checkOrThrow(file, { set: sets, model: opts.model });
  const plan = kvHeadsPlan(spec, n);
  const checkpoint = openCheckpoint(opts.weights);
  const bar = progressBar(opts);
  try {
    const tensors = convertKvHeads(withReadProgress(checkpoint, bar?.onProgress), opts.weights, plan, spec.checkpoint?.tensors ?? [], n);
    const metadata = Object.keys(checkpoint.metadata).length > 0 ? checkpoint.metadata : undefined;
    writeSafetensors(opts.out, tensors, metadata);
  } finally {
    bar?.end();
    checkpoint.close();
  }
  const projections = plan.filter((p) => p.kind === 'projection').length;
  const norms = plan.length - projections;
  const from = [...new Set(plan.map((p) => p.heads))].join(', ');
  const what = plan.length === 0
    ? `copied ${opts.weights} to ${opts.out}: every attention already has ${n} key/value head${n === 1 ? '' : 's'}`
    : `pooled ${projections} key/value projection${projections === 1 ? '' : 's'}${norms ? ` and ${norms} key norm${norms === 1 ? '' : 's'}` : ''} from ${from} to ${n} head${n === 1 ? '' : 's'} into ${opts.out}`;
  const hint = kvHeadsHint(file, sets, opts.model, spec, plan, n);
  process.stderr.write(`${what}; ${hint}\n`);
  if (opts.json) printJson({ out: opts.out, kv_heads: n, projections, norms, from_heads: [...new Set(plan.map((p) => p.heads))], hint });
}
