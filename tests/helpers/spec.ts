// Checking spec text in tests: writes it to a temporary file so diagnostics carry a real path.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { displayPath } from '../../dsl/load.ts';
import { check, renderDiagnostics, type Checked } from '../../compiler/api.ts';

export const scratch = mkdtempSync(join(tmpdir(), 'moec-test-'));

export function writeSpec(name: string, text: string): string {
  const path = join(scratch, name);
  writeFileSync(path, text);
  return path;
}

export function checkText(text: string, name = 'spec.moe', options: Parameters<typeof check>[1] = {}): Checked & { rendered: string; path: string } {
  const path = writeSpec(name, text);
  const c = check(path, options);
  return { ...c, rendered: renderDiagnostics(c), path: displayPath(path) };
}

/** A minimal valid model around a body of definitions, for tests that vary one component. */
export function modelWith(defs: string, block = 'block { norm: norm, attention: attn, ffn: ff }', dModel = 64): string {
  return `rmsnorm norm { eps: 1e-5 }\n${defs}\nmodel m {\n  vocab: 100\n  d_model: ${dModel}\n  decoder: stack { layers: 2, block: ${block}, final_norm: norm }\n}\n`;
}
