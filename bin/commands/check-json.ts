// moec check --json: each file's result as a JSON object (docs/json.md): whether it checks, the model it describes,
// and every diagnostic with its file, line and column (null where a diagnostic has no place in a file).
import type { Checked } from '../../compiler/api.ts';

export interface DiagnosticJson {
  severity: 'error' | 'warning';
  file: string | null;
  line: number | null;
  col: number | null;
  message: string;
  hint: string | null;
}

export interface CheckFileJson {
  file: string;
  ok: boolean;
  /** The checked model; null when the file does not check. */
  model: { name: string; decoder_layers: number; encoder_layers: number; moe_layers: number } | null;
  diagnostics: DiagnosticJson[];
}

export function checkFileJson(file: string, c: Pick<Checked, 'model' | 'diagnostics'>): CheckFileJson {
  const m = c.model;
  const layers = m ? [...(m.encoder?.layers ?? []), ...m.decoder.layers] : [];
  return {
    file,
    ok: m !== undefined,
    model: m ? {
      name: m.name,
      decoder_layers: m.decoder.layers.length,
      encoder_layers: m.encoder?.layers.length ?? 0,
      moe_layers: layers.filter((l) => l.ffn?.kind === 'moe' || l.ffn?.kind === 'peer').length,
    } : null,
    diagnostics: c.diagnostics.map((d) => ({
      severity: d.severity,
      file: d.span?.file ?? null,
      line: d.span?.line ?? null,
      col: d.span?.col ?? null,
      message: d.message,
      hint: d.hint ?? null,
    })),
  };
}
