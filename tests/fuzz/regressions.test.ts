// Crashes and broken promises the fuzzers found (tests/fuzz/front-end.test.ts, npm run fuzz), each as the minimal
// input with the exact diagnostics it now gets.
import { describe, expect, it } from 'vitest';
import { check } from '../../compiler/api.ts';
import { lowerModel } from '../../compiler/lower/model.ts';
import { runPipeline } from '../../compiler/passes/pipeline.ts';
import { checkFrontEnd } from './front-end-property.ts';

/** Each diagnostic as [message, hint, file:line:col]. */
const diagnosticsOf = (text: string) =>
  check('spec.moe', {}, text).diagnostics.map((d) => [d.message, d.hint, d.span ? `${d.span.file}:${d.span.line}:${d.span.col}` : undefined]);

describe('syntax errors that error recovery re-synced inside an expression', () => {
  // The parser read the span of a sub-expression that recovery had left out: TypeError "reading 'span'".
  it('a binary operator without its right operand in a nested object', () => {
    expect(checkFrontEnd('spec.moe', 'm{d{r%n').violations).toEqual([]);
    expect(diagnosticsOf('m{d{r%n')).toEqual([
      ["unexpected '{'", 'expected a name', 'spec.moe:1:2'],
      ["unexpected '{'", "expected ':'", 'spec.moe:1:4'],
      ["unexpected '%'", "expected ':'", 'spec.moe:1:6'],
      ['unexpected end of file', "expected '}'", 'spec.moe:1:8'],
    ]);
  });

  it('a comparison', () => {
    expect(checkFrontEnd('spec.moe', 'k{k{r>p').violations).toEqual([]);
    expect(diagnosticsOf('k{k{r>p').map((d) => d[0])).toEqual(["unexpected '{'", "unexpected '{'", "unexpected '>'", 'unexpected end of file']);
  });

  it('a conditional', () => {
    expect(checkFrontEnd('spec.moe', 'k{n:if e n').violations).toEqual([]);
    expect(diagnosticsOf('k{n:if e n')).toEqual([
      ["unexpected '{'", 'expected a name', 'spec.moe:1:2'],
      ["unexpected 'if'", 'expected an expression', 'spec.moe:1:5'],
      ["unexpected 'n'", "expected 'else'", 'spec.moe:1:10'],
      ['unexpected end of file', "expected '}'", 'spec.moe:1:11'],
    ]);
  });
});

describe('an import without a path', () => {
  // Recovery inserted an empty path with no offsets: the loader looked for the file "" (the folder) and reported
  // `cannot import "": no such file` with a span ending at NaN.
  it('is a syntax error only', () => {
    expect(checkFrontEnd('spec.moe', 'import param=0').violations).toEqual([]);
    expect(diagnosticsOf('import param=0')).toEqual([
      ["unexpected 'param'", 'expected a string', 'spec.moe:1:8'],
      ["unexpected '='", 'expected a name', 'spec.moe:1:13'],
    ]);
  });
});

describe('a file without a model', () => {
  // The diagnostic had no position; it now points at the end of the file, where the definition would go.
  it('points at the end of the file', () => {
    const hint = 'add a definition: model NAME { vocab: …, d_model: …, decoder: stack { … } }';
    expect(diagnosticsOf('')).toEqual([['spec.moe defines no model', hint, 'spec.moe:1:1']]);
    expect(diagnosticsOf('let a = 1\n\n')).toEqual([['spec.moe defines no model', hint, 'spec.moe:1:10']]);
  });
});

const encoderDecoder = (decoderBlock: string) => `rmsnorm n { eps: 0.001 }
ffn f { hidden: 24, act: silu }
block b { norm: n, attention: attention { heads: 2 }, ffn: f, residual: parallel }
model m {
  vocab: 10
  d_model: 16
  encoder: stack { layers: 1, block: b }
  decoder: stack { layers: 1, block: ${decoderBlock} }
}
`;

describe('residual: parallel and cross-attention', () => {
  // Lowering a parallel block dropped its cross_attention without a word.
  it('is an error at the residual field', () => {
    expect(diagnosticsOf(encoderDecoder('block extends b { cross_attention: attention { heads: 2 } }'))).toEqual([
      ['residual: parallel cannot have cross_attention', 'a parallel block computes attention and ffn from the same input; use pre_norm or post_norm in a decoder with cross_attention', 'spec.moe:3:73'],
    ]);
  });
});

describe('an encoder no cross-attention reads', () => {
  // Its nodes are dead code; fuse-epilogues replaced a dead activation and dropped the replacement, leaving dead
  // readers of a value nothing defined: "the IR is invalid after fuse-epilogues: … is used before it is defined".
  it('passes the verifier after every pass', () => {
    const c = check('spec.moe', {}, encoderDecoder('b'));
    expect(c.diagnostics).toEqual([]);
    expect(() => runPipeline(lowerModel(c.model!), { verify: true })).not.toThrow();
  });
});
