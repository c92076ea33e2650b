// The TextMate grammar of .moe: its regexes compile as JavaScript, its words follow the lexer and the schema, and it
// scopes the tokens of real specs as an editor should.
import { readFileSync } from 'node:fs';
import type { TokenType } from 'chevrotain';
import { describe, expect, it } from 'vitest';
import { allTokens, Identifier } from '../../dsl/lexer.ts';
import { kinds } from '../../compiler/spec/schema.ts';
import { LAYER_NAME, LAYERS_NAME } from '../../compiler/spec/evaluate.ts';
import { matchRules, tokenizeLine, type Grammar, type GrammarRule, type Token } from '../../dsl/highlight/tokenize.ts';

const root = new URL('../../', import.meta.url);
const grammar = JSON.parse(readFileSync(new URL('dsl/editor/moe.tmLanguage.json', root), 'utf8')) as Grammar;
const manifest = JSON.parse(readFileSync(new URL('dsl/editor/package.json', root), 'utf8'));
const repo = grammar.repository!;

/** The lexer's keywords: the tokens that fall back to Identifier for longer words (`layers` is not `layer`…). */
function lexerKeywords(): string[] {
  return allTokens
    .filter((t: TokenType) => t.LONGER_ALT === Identifier || (Array.isArray(t.LONGER_ALT) && t.LONGER_ALT.includes(Identifier)))
    .map((t) => (t.PATTERN as RegExp).source.replace(/\\b/g, ''));
}

/** The words of a rule's alternation, e.g. \b(?:if|else)\b → [if, else]. */
function wordsOf(rule: GrammarRule): string[] {
  const m = /\((?:\?:)?([A-Za-z_|]+)\)/.exec(rule.match!);
  return m ? m[1]!.split('|') : [];
}

function tokenAt(line: string, text: string, nth = 0): Token {
  const found = tokenizeLine(grammar, line).filter((t) => t.text.trim() === text);
  if (!found[nth]) throw new Error(`no token '${text}' in ${JSON.stringify(tokenizeLine(grammar, line).map((t) => t.text))}`);
  return found[nth]!;
}
const scopeOf = (line: string, text: string, nth = 0) => tokenAt(line, text, nth).scopes.join(' ');

describe('the grammar file', () => {
  it('is a standalone source.moe grammar of match rules whose regexes compile as JavaScript', () => {
    expect(grammar.scopeName).toBe('source.moe');
    const rules = matchRules(grammar);
    expect(rules.length).toBeGreaterThan(10);
    for (const r of rules) expect(() => new RegExp(r.match!, 'd'), r.match).not.toThrow();
    expect(JSON.stringify(grammar)).not.toMatch(/"(begin|end|while)"/);
  });

  it('is the grammar the extension manifest contributes, for the language of .moe files', () => {
    expect(manifest.contributes.grammars).toEqual([{ language: 'moe', scopeName: 'source.moe', path: './moe.tmLanguage.json' }]);
    expect(manifest.contributes.languages[0]).toMatchObject({ id: 'moe', extensions: ['.moe'] });
  });
});

describe('drift against the lexer and the schema', () => {
  const keywordRules = repo.keywords!.patterns!;

  it('matches every keyword token of the lexer with the keyword patterns, and no other word', () => {
    const words = lexerKeywords();
    expect(words).toEqual(expect.arrayContaining(['import', 'let', 'param', 'extends', 'if', 'else', 'true', 'false', 'none']));
    for (const w of words) {
      const hits = keywordRules.filter((r) => new RegExp(`^(?:${r.match})$`).test(w));
      expect(hits.length, `keyword '${w}'`).toBe(1);
    }
    expect(keywordRules.flatMap(wordsOf).sort()).toEqual([...words].sort());
  });

  it('scopes every lexer keyword as a keyword, storage or constant where it stands alone', () => {
    for (const w of lexerKeywords()) expect(scopeOf(`x ${w} y`, w), w).toMatch(/ (keyword|storage|constant)\./);
  });

  it('knows every component kind of the schema, and no other', () => {
    const names = Object.keys(kinds);
    expect(wordsOf(repo.kind!).sort()).toEqual([...names].sort());
    expect(wordsOf(repo.declaration!).sort()).toEqual([...names].sort());
    for (const k of names) {
      expect(scopeOf(`${k} my_${k} {`, k), k).toContain('storage.type.component.moe');
      expect(scopeOf(`${k} my_${k} {`, `my_${k}`), k).toContain('entity.name.type.component.moe');
      expect(scopeOf(`  x: ${k} { a: 1 }`, k), k).toContain('storage.type.component.moe');
    }
  });

  it('marks the layer index names the evaluator defines', () => {
    for (const n of [LAYER_NAME, LAYERS_NAME]) expect(scopeOf(`ffn: a if ${n} % 2 == 0 else b`, n)).toContain('variable.language.moe');
  });
});

describe('tokens of examples/mixtral-8x7b.moe', () => {
  const lines = readFileSync(new URL('examples/mixtral-8x7b.moe', root), 'utf8').split('\n');
  const line = (start: string) => lines.find((l) => l.trimStart().startsWith(start))!;

  it('scopes comments, declarations, fields, numbers and kinds', () => {
    expect(scopeOf(lines[0]!, lines[0]!)).toBe('source.moe comment.line.number-sign.moe');
    expect(scopeOf(line('moe sparse_ffn'), 'moe')).toBe('source.moe storage.type.component.moe');
    expect(scopeOf(line('moe sparse_ffn'), 'sparse_ffn')).toBe('source.moe entity.name.type.component.moe');
    expect(scopeOf(line('top_k'), 'top_k')).toBe('source.moe variable.other.property.moe');
    expect(scopeOf(line('top_k'), '2')).toBe('source.moe constant.numeric.moe');
    expect(scopeOf(line('let vocab'), 'let')).toBe('source.moe storage.type.moe');
    expect(scopeOf(line('let vocab'), 'vocab')).toBe('source.moe entity.name.variable.moe');
    expect(scopeOf(line('kv_heads'), '# grouped-query attention, 4 query heads per kv head')).toContain('comment.line');
    expect(scopeOf(line('rmsnorm norm'), '1e-5')).toContain('constant.numeric.moe');
    expect(scopeOf(line('rope:'), '1e6')).toContain('constant.numeric.moe');
    const expert = line('expert:');
    expect(scopeOf(expert, 'expert')).toContain('variable.other.property.moe');
    expect(scopeOf(expert, 'ffn')).toContain('storage.type.component.moe');
    expect(scopeOf(expert, 'hidden')).toContain('variable.other.property.moe');
    expect(scopeOf(expert, 'swiglu')).toBe('source.moe');
    expect(scopeOf(line('router:'), 'true')).toContain('constant.language.moe');
    const block = line('block:');
    expect(scopeOf(block, 'block', 0)).toContain('variable.other.property.moe');
    expect(scopeOf(block, 'block', 1)).toContain('storage.type.component.moe');
    expect(scopeOf(block, 'norm', 1)).toBe('source.moe');
  });

  it('tokenizes every line of every example without leaving a number, quote or brace unscoped', () => {
    const dir = new URL('examples/', root);
    for (const f of ['mixtral-8x7b.moe', 'switch-base-128.moe', 'switch-transformer.moe', 'deepseek-v3.moe', 'moeut.moe']) {
      for (const l of readFileSync(new URL(f, dir), 'utf8').split('\n')) {
        const toks = tokenizeLine(grammar, l);
        expect(toks.map((t) => t.text).join('')).toBe(l);
        for (const t of toks) if (t.scopes.length === 1) expect(t.text, `${f}: ${l}`).not.toMatch(/["{}#]|\b\d/);
      }
    }
  });
});

describe('expressions', () => {
  it('reads 1024*1024 as two numbers and an operator, 1e-6 and 14_336 as one number each', () => {
    expect(tokenizeLine(grammar, 'let n = 1024*1024').slice(-3).map((t) => [t.text, t.scopes.at(-1)])).toEqual([
      ['1024', 'constant.numeric.moe'], ['*', 'keyword.operator.moe'], ['1024', 'constant.numeric.moe'],
    ]);
    expect(scopeOf('eps: 1e-6', '1e-6')).toContain('constant.numeric.moe');
    expect(scopeOf('hidden: 14_336', '14_336')).toContain('constant.numeric.moe');
    expect(scopeOf('scale: d ** -0.5', '0.5')).toContain('constant.numeric.moe');
    expect(scopeOf('scale: d ** -0.5', '**')).toContain('keyword.operator.moe');
    expect(scopeOf('x: a // 2', '//')).toContain('keyword.operator.moe');
  });

  it('scopes strings (with escapes), imports, extends, calls and a # inside a string', () => {
    expect(scopeOf('import "switch-transformer.moe"', 'import')).toContain('keyword.control.import.moe');
    expect(scopeOf('import "switch-transformer.moe"', '"switch-transformer.moe"')).toContain('string.quoted.double.moe');
    expect(scopeOf('"a": "b \\" # c"', '"b \\" # c"')).toContain('string.quoted.double.moe');
    const ext = 'moe big extends small { experts: 64 }';
    expect(scopeOf(ext, 'extends')).toContain('storage.modifier.extends.moe');
    expect(scopeOf(ext, 'small')).toContain('entity.other.inherited-class.moe');
    expect(scopeOf('hidden: ceil(x / 3)', 'ceil')).toContain('support.function.builtin.moe');
    expect(scopeOf('param experts = 8', 'experts')).toContain('entity.name.variable.moe');
  });
});
