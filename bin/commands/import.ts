// moec import hf DIR: a .moe spec from a Hugging Face config, checked before it is written.
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { check, renderDiagnostics } from '../../compiler/api.ts';
import { importHf } from '../../compiler/import/hf/index.ts';
import { emit } from '../output.ts';

export function importCommand(dir: string, opts: { out?: string }): void {
  const { text } = importHf(dir);
  // The importer's output must itself check; a failure here is a bug in the importer, reported as such.
  const scratch = mkdtempSync(join(tmpdir(), 'moec-import-'));
  try {
    const f = join(scratch, 'imported.moe');
    writeFileSync(f, text);
    const c = check(f);
    if (!c.model) throw new Error(`the imported spec does not check:\n${renderDiagnostics(c)}`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  emit(text, opts.out);
  if (opts.out) process.stderr.write(`wrote ${opts.out}\n`);
}
