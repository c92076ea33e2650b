// moec check FILE...: diagnostics for each spec, or one line saying what the model is.
import { check, renderDiagnostics } from '../../compiler/api.ts';
import { parseSets, printJson, ReportedError } from '../output.ts';
import { checkFileJson } from './check-json.ts';

export function checkCommand(files: string[], opts: { set?: string[]; model?: string; json?: boolean }): void {
  if (opts.json) return checkJson(files, opts);
  let failed = 0;
  for (const file of files) {
    const c = check(file, { set: parseSets(opts.set), model: opts.model });
    if (c.diagnostics.length > 0) process.stderr.write(`${renderDiagnostics(c)}\n`);
    if (!c.model) {
      failed++;
      continue;
    }
    const m = c.model;
    const moe = [...(m.encoder?.layers ?? []), ...m.decoder.layers].filter((l) => l.ffn?.kind === 'moe' || l.ffn?.kind === 'peer').length;
    const stacks = m.encoder ? `encoder ${m.encoder.layers.length} + decoder ${m.decoder.layers.length} layers` : `${m.decoder.layers.length} layers`;
    process.stdout.write(`ok ${file}: model ${m.name}, ${stacks}, ${moe} MoE\n`);
  }
  if (failed > 0) throw new ReportedError();
}

/** --json: one object on stdout, `{ ok, files: [...] }` (docs/json.md); the exit status as without it. */
function checkJson(files: string[], opts: { set?: string[]; model?: string }): void {
  const results = files.map((file) => checkFileJson(file, check(file, { set: parseSets(opts.set), model: opts.model })));
  const ok = results.every((r) => r.ok);
  printJson({ ok, files: results });
  if (!ok) throw new ReportedError();
}
