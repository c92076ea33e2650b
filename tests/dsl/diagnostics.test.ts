import { describe, expect, it } from 'vitest';
import { checkText, modelWith, writeSpec } from '../helpers/spec.ts';
import { check, renderDiagnostics } from '../../compiler/api.ts';
import { displayPath } from '../../dsl/load.ts';

const attn = 'attention attn { heads: 4 }';
const ffn = 'ffn ff { hidden: 128, act: swiglu }';

describe('syntax errors', () => {
  it('points at the token, says what was expected, and reports every error in the file', () => {
    const r = checkText('moe x {\n  experts: 8\n  top_k: : 2\n}\nlet = 3\n');
    expect(r.model).toBeUndefined();
    expect(r.rendered).toBe(
      [
        "error: unexpected ':'",
        `  --> ${r.path}:3:10`,
        '  |',
        '3 |   top_k: : 2',
        '  |          ^',
        '  = expected an expression',
        '',
        "error: unexpected '='",
        `  --> ${r.path}:5:5`,
        '  |',
        '5 | let = 3',
        '  |     ^',
        '  = expected a name',
        '',
        '2 errors',
      ].join('\n'),
    );
  });

  it('reports an unexpected character', () => {
    const r = checkText('let a = 3 $ 4\n');
    expect(r.diagnostics[0]!.message).toBe("unexpected character '$'");
    expect(r.rendered).toContain(`${r.path}:1:11`);
  });

  it('reports an unterminated object at the end of the file', () => {
    const r = checkText('model m {\n  vocab: 3\n');
    expect(r.diagnostics[0]!.message).toBe('unexpected end of file');
    expect(r.diagnostics[0]!.hint).toBe("expected '}'");
  });
});

describe('semantic errors', () => {
  const one = (text: string) => {
    const r = checkText(text);
    expect(r.model).toBeUndefined();
    return r;
  };

  it('unknown names, with a suggestion', () => {
    const r = one(modelWith(`${attn}\n${ffn}\nlet d_model = 64\nlet x = d_modle * 2`));
    expect(r.diagnostics.map((d) => [d.message, d.hint])).toEqual([["unknown name 'd_modle'", "did you mean 'd_model'?"]]);
    expect(r.rendered).toContain(`${r.path}:5:9\n`);
  });

  it('unknown fields, with a suggestion', () => {
    const r = one(modelWith(`${attn}\nmoe ff { experts: 8, topk: 2, expert: ffn { hidden: 32 } }`));
    expect(r.diagnostics.map((d) => [d.message, d.hint])).toEqual([["unknown field 'topk' in moe", "did you mean 'top_k'?"]]);
  });

  it('heads that do not divide d_model', () => {
    const r = one(modelWith(`attention attn { heads: 5 }\n${ffn}`));
    expect(r.diagnostics.map((d) => d.message)).toEqual(['heads (5) does not divide d_model (64); set head_dim explicitly']);
    expect(r.rendered).toContain('attention attn { heads: 5 }\n  |                         ^');
  });

  it('kv heads that do not divide heads', () => {
    const r = one(modelWith(`attention attn { heads: 4, kv_heads: 3 }\n${ffn}`));
    expect(r.diagnostics.map((d) => d.message)).toEqual(['kv_heads (3) must divide heads (4)']);
  });

  it('k larger than the number of experts', () => {
    const r = one(modelWith(`${attn}\nmoe ff { experts: 4, top_k: 6, expert: ffn { hidden: 32 } }`));
    expect(r.diagnostics.map((d) => d.message)).toEqual(['top_k (6) is larger than the number of experts (4)']);
  });

  it('a capacity factor that is not positive', () => {
    const r = one(modelWith(`${attn}\nmoe ff { experts: 4, expert: ffn { hidden: 32 }, capacity_factor: 0 }`));
    expect(r.diagnostics.map((d) => d.message)).toEqual(['capacity_factor must be greater than 0, found 0']);
  });

  it('a granularity that does not divide the expert', () => {
    const r = one(modelWith(`${attn}\nmoe ff { experts: 4, granularity: 3, expert: ffn { hidden: 32 } }`));
    expect(r.diagnostics.map((d) => d.message)).toEqual(['granularity 3 does not divide the expert hidden size 32']);
  });

  it('a dimension that is not an integer', () => {
    const r = one(modelWith(`${attn}\nffn ff { hidden: 100 / 3 }`));
    expect(r.diagnostics.map((d) => [d.message, d.hint])).toEqual([['ffn.hidden must be an integer, found 33.3333', 'a division that does not come out even? use // for floor division']]);
  });

  it('duplicate definitions', () => {
    const r = one(modelWith(`${attn}\n${ffn}\nlet a = 1\nlet a = 2`));
    expect(r.diagnostics.map((d) => d.message)).toEqual(["duplicate definition of 'a'"]);
    expect(r.diagnostics[0]!.hint).toMatch(/^first defined at .*spec\.moe:4:5$/);
  });

  it('a missing required field', () => {
    const r = one(modelWith(`${attn}\nffn ff { act: relu }`));
    expect(r.diagnostics.map((d) => d.message)).toEqual(["ffn 'ff' is missing the field 'hidden'"]);
  });

  it('a component of the wrong kind', () => {
    const r = one(modelWith(`${attn}\n${ffn}`, 'block { norm: norm, attention: ff, ffn: ff }'));
    expect(r.diagnostics.map((d) => d.message)).toEqual(["block.attention must be an attention, a mla or a fourier, found 'ff', a ffn"]);
  });

  it('several semantic errors at once', () => {
    const r = one(modelWith(`attention attn { heads: 4, kv_heads: 3 }\nmoe ff { experts: 2, top_k: 3, expert: ffn { hidden: 32 } }`));
    expect(r.diagnostics).toHaveLength(2);
    expect(r.rendered.endsWith('2 errors')).toBe(true);
  });

  it('the layer index outside a stack', () => {
    const r = one(modelWith(`${attn}\n${ffn}`).replace('vocab: 100', 'vocab: 100 + layer'));
    expect(r.diagnostics.map((d) => d.message)).toEqual(["'layer' is only defined inside a stack's block"]);
  });
});

describe('imports', () => {
  it('shares definitions between files', () => {
    writeSpec('family.moe', `rmsnorm norm { eps: 1e-5 }\n${attn}\n${ffn}\n`);
    const r = checkText('import "family.moe"\nmodel m { vocab: 10, d_model: 64, decoder: stack { layers: 1, block: block { norm: norm, attention: attn, ffn: ff } } }\n', 'uses-family.moe');
    expect(r.diagnostics).toEqual([]);
    const a = r.model?.decoder.layers[0]?.attention;
    expect(a?.kind === 'attention' ? a.heads : undefined).toBe(4);
  });

  it('reports a cycle at the import that closes it', () => {
    writeSpec('cycle-a.moe', 'import "cycle-b.moe"\n');
    const b = writeSpec('cycle-b.moe', 'import "cycle-a.moe"\n');
    const c = check(b);
    const rb = displayPath(b);
    const ra = rb.replace('cycle-b', 'cycle-a');
    expect(c.diagnostics.map((d) => d.message)).toEqual([`import cycle: ${rb} -> ${ra} -> ${rb}`]);
    expect(renderDiagnostics(c)).toContain(`${ra}:1:1`);
  });

  it('reports a missing file at the import', () => {
    const r = checkText('import "nope.moe"\n');
    expect(r.diagnostics[0]!.message).toMatch(/^cannot import "nope.moe": no such file/);
    expect(r.rendered).toContain(`${r.path}:1:1`);
  });
});

describe('params and layer patterns', () => {
  it('--set overrides a param and refuses a let', () => {
    const text = modelWith(`param hidden = 64\nlet fixed = 1\n${attn}\nffn ff { hidden: hidden }`);
    const r = checkText(text, 'params.moe', { set: { hidden: '256' } });
    const f = r.model!.decoder.layers[0]!.ffn!;
    expect(f.kind === 'ffn' && f.hidden).toBe(256);
    const bad = checkText(text, 'params2.moe', { set: { fixed: '2' } });
    expect(bad.diagnostics.map((d) => d.message)).toEqual(["--set fixed: 'fixed' is not a param"]);
  });

  it('evaluates a block per layer: every other FFN sparse, first k dense', () => {
    const r = checkText(modelWith(`${attn}\n${ffn}\nmoe sp { experts: 4, top_k: 2, expert: ff }`, 'block { norm: norm, attention: attn, ffn: sp if layer % 2 == 1 else ff }'));
    expect(r.model!.decoder.layers.map((l) => l.ffn?.kind)).toEqual(['ffn', 'moe']);
  });
});
