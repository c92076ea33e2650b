// The language server's features as pure functions of (file, text, position): diagnostics, hover, go-to-definition.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kinds } from '../../compiler/spec/schema.ts';
import { analyze } from '../../dsl/lsp/analyze.ts';
import { definitionAt } from '../../dsl/lsp/definition.ts';
import { toLspDiagnostics } from '../../dsl/lsp/diagnostics.ts';
import { formatIndices } from '../../dsl/lsp/format.ts';
import { hoverAt } from '../../dsl/lsp/hover.ts';
import { offsetAt, positionAt, spanToRange } from '../../dsl/lsp/positions.ts';

const examples = resolve(import.meta.dirname, '../../examples');
const mixtralPath = join(examples, 'mixtral-8x7b.moe');
const mixtral = readFileSync(mixtralPath, 'utf8');

/** The offset of the nth occurrence of `word` as a whole word (plus `into` characters into it). */
function at(text: string, word: string, nth = 0, into = 1): number {
  const re = new RegExp(`\\b${word}\\b`, 'g');
  let m: RegExpExecArray | null = null;
  for (let i = 0; i <= nth; i++) m = re.exec(text);
  if (!m) throw new Error(`no '${word}' #${nth}`);
  return m.index + into;
}

function lineOfText(text: string, needle: string): number {
  return text.split('\n').findIndex((l) => l.includes(needle));
}

describe('positions', () => {
  it('turns offsets into LSP positions and back, and spans into ranges', () => {
    const text = 'ab\ncdé\n\nf';
    for (let o = 0; o <= text.length; o++) expect(offsetAt(text, positionAt(text, o))).toBe(o);
    expect(positionAt(text, 5)).toEqual({ line: 1, character: 2 });
    expect(offsetAt(text, { line: 1, character: 99 })).toBe(6);
    expect(offsetAt(text, { line: 9, character: 0 })).toBe(text.length);
    expect(spanToRange({ start: 3, end: 5 }, text)).toEqual({ start: { line: 1, character: 0 }, end: { line: 1, character: 2 } });
  });
});

describe('diagnostics', () => {
  it('maps each error of the buffer (not the file on disk) to the range of its span, with the hint after the message', () => {
    const text = mixtral.replace('top_k: 2', 'topk: 2');
    const ds = toLspDiagnostics(analyze(mixtralPath, text));
    expect(ds).toHaveLength(1);
    expect(ds[0]!.message).toMatch(/^unknown field 'topk' in moe\n/);
    const line = lineOfText(text, 'topk: 2');
    const col = text.split('\n')[line]!.indexOf('topk');
    expect(ds[0]!.range).toEqual({ start: { line, character: col }, end: { line, character: col + 4 } });
    expect(ds[0]!.severity).toBe(1);
    expect(toLspDiagnostics(analyze(mixtralPath, mixtral))).toEqual([]);
  });

  it('reports syntax errors and a problem in an imported file at the import', () => {
    const dir = mkdtempSync(join(tmpdir(), 'moec-lsp-'));
    writeFileSync(join(dir, 'base.moe'), 'let a = 1\nlet b = a +\n');
    const path = join(dir, 'main.moe');
    const ds = toLspDiagnostics(analyze(path, 'import "base.moe"\nlet c = 2\n'));
    expect(ds.length).toBeGreaterThan(0);
    expect(ds[0]!.range.start).toEqual({ line: 0, character: 0 });
    expect(ds[0]!.message).toMatch(/base\.moe:\d+:\d+: /);
    const syntax = toLspDiagnostics(analyze(path, 'let x = (1 +\n'));
    expect(syntax[0]!.message).toMatch(/^unexpected/);
  });
});

describe('hover', () => {
  const a = analyze(mixtralPath, mixtral);
  const hover = (word: string, nth = 0) => hoverAt(a, at(mixtral, word, nth))?.markdown ?? '';

  it('shows a MoE layer: kind, experts, shapes and parameters per layer, at its declaration and at a use', () => {
    for (const md of [hover('sparse_ffn', 0), hover('sparse_ffn', 1)]) {
      expect(md).toContain('moe sparse_ffn');
      expect(md).toContain('moe: 8 experts, top-2, softmax router (normalized), experts: ffn hidden 14336, swiglu');
      expect(md).toContain('Input and output: [batch, seq, 4096]');
      expect(md).toContain('decoder layers 0–31 (ffn)');
      // 3 × 8 × 4096 × 14336 expert weights + an 8 × 4096 router; a token uses 2 of the 8 experts.
      expect(md).toContain('Parameters per layer: 1,409,318,912 (active 352,354,304)');
      expect(md).toContain('`experts.up` [8, 14336, 4096]');
    }
  });

  it('shows attention and norms with their parameters', () => {
    const attn = hover('self_attention', 1);
    expect(attn).toContain('32 heads, 8 kv heads (grouped-query), head_dim 128');
    expect(attn).toContain('Parameters per layer: 41,943,040');
    const norm = hover('norm', 2);
    expect(norm).toContain('rmsnorm norm');
    expect(norm).toContain('rmsnorm: rmsnorm, eps 1e-5');
    expect(norm).toContain('- decoder layers 0–31 (norm): parameters per layer: 8,192; in all 32 layers: 262,144');
    expect(norm).toContain('- decoder final_norm: parameters: 4,096');
    expect(norm).toContain('`attn_norm.weight` [4096]');
    expect(norm).toContain('`ffn_norm.weight` [4096]');
  });

  it('shows a model with its parameter counts (Mixtral: 46.7B, 12.9B active)', () => {
    const md = hover('mixtral_8x7b');
    expect(md).toContain('model: vocab 32000, d_model 4096, 32 layers');
    expect(md).toContain('Parameters: 46,702,792,704 (active 12,879,925,248)');
  });

  it("shows a field's documentation from the schema, for the kind it belongs to", () => {
    expect(hover('top_k')).toContain(kinds.moe!.fields.top_k!.doc);
    expect(hover('top_k')).toContain('**moe.top_k**: `int` (default `1`)');
    expect(hover('heads', 1)).toContain(kinds.attention!.fields.heads!.doc);
    // `expert: ffn { hidden: … }` and a kind-less object take the kind from the field they fill.
    expect(hover('hidden')).toContain('**ffn.hidden**');
    const b = analyze(mixtralPath, mixtral.replace('expert: ffn {', 'expert: {'));
    expect(hoverAt(b, at(b.text, 'hidden'))?.markdown).toContain('**ffn.hidden**');
  });

  it('shows a constant and a kind', () => {
    expect(hover('d_model', 2)).toContain('let d_model = 4096');
    expect(hover('moe')).toContain('**moe** (ffn)');
    expect(hoverAt(a, at(mixtral, 'swiglu'))).toBeUndefined();
  });

  it("shows a param's value where an importing file sets it", () => {
    const path = join(examples, 'switch-base-128.moe');
    const text = readFileSync(path, 'utf8');
    const md = hoverAt(analyze(path, text), at(text, 'experts', 1))?.markdown ?? '';
    expect(md).toContain('param experts = 128');
    expect(md).toContain('--set experts=');
    const family = join(examples, 'switch-transformer.moe');
    const layer = analyze(family, readFileSync(family, 'utf8'));
    expect(hoverAt(layer, at(layer.text, 'switch_layer'))?.markdown).toContain('encoder layers 1, 3, 5, 7, 9, 11 (ffn)');
  });
});

describe('go to definition', () => {
  it('goes from a use to the declaration, in this file', () => {
    const a = analyze(mixtralPath, mixtral);
    const loc = definitionAt(a, at(mixtral, 'sparse_ffn', 1))!;
    const line = lineOfText(mixtral, 'moe sparse_ffn');
    expect(loc).toEqual({ path: mixtralPath, range: { start: { line, character: 4 }, end: { line, character: 14 } } });
    expect(definitionAt(a, at(mixtral, 'heads', 2))?.range.start.line).toBe(lineOfText(mixtral, 'let heads'));
    expect(definitionAt(a, at(mixtral, 'top_k'))).toBeUndefined();
  });

  it('goes across imports, and from an import to its file', () => {
    const path = join(examples, 'switch-base-128.moe');
    const family = join(examples, 'switch-transformer.moe');
    const dir = mkdtempSync(join(tmpdir(), 'moec-lsp-'));
    const own = join(dir, 'mine.moe');
    const text = `import "${family}"\nmoe bigger extends switch_layer { experts: 256 }\n`;
    const loc = definitionAt(analyze(own, text), at(text, 'switch_layer'))!;
    expect(loc.path).toBe(family);
    expect(loc.range.start.line).toBe(lineOfText(readFileSync(family, 'utf8'), 'moe switch_layer'));
    const base = readFileSync(path, 'utf8');
    expect(definitionAt(analyze(path, base), base.indexOf('switch-transformer.moe'))?.path).toBe(family);
  });
});

it('formats layer lists as ranges', () => {
  expect(formatIndices([5, 0, 1, 2, 7, 8])).toBe('0–2, 5, 7–8');
});
