// Text to AST: lexing and parsing errors become diagnostics with positions and what was expected.
import type { IRecognitionException, IToken } from 'chevrotain';
import type { Module } from './ast.ts';
import { error, type Diagnostic } from './diagnostics.ts';
import { moeLexer, tokenLabels } from './lexer.ts';
import { MoeParser } from './parser.ts';
import { spanAt } from './source.ts';

let sharedParser: MoeParser | undefined;

export interface ParseResult {
  module: Module;
  diagnostics: Diagnostic[];
}

export function parseModule(text: string, file: string): ParseResult {
  const diagnostics: Diagnostic[] = [];
  const lexed = moeLexer.tokenize(text);
  for (const e of lexed.errors) {
    const ch = text.slice(e.offset, e.offset + e.length);
    diagnostics.push(error(`unexpected character '${ch}'`, spanAt(file, text, e.offset, e.offset + Math.max(1, e.length)),
      'expected a name, a number, a string, an operator or a bracket'));
  }
  const parser = (sharedParser ??= new MoeParser());
  parser.file = file;
  parser.text = text;
  parser.input = lexed.tokens;
  const module = parser.module() ?? { file, statements: [] };
  for (const e of parser.errors) diagnostics.push(syntaxDiagnostic(e, text, file));
  module.statements = module.statements.filter((s) => s !== undefined);
  return { module, diagnostics };
}

function describe(token: IToken): string {
  if (token.tokenType.name === 'EOF') return 'end of file';
  return `'${token.image}'`;
}

function syntaxDiagnostic(e: IRecognitionException, text: string, file: string): Diagnostic {
  const token = e.token;
  const atEof = token.tokenType.name === 'EOF' || Number.isNaN(token.startOffset);
  const start = atEof ? Math.max(0, text.trimEnd().length) : token.startOffset;
  const end = atEof ? start + 1 : (token.endOffset ?? start) + 1;
  const span = spanAt(file, text, start, end);
  const expected = expectedFrom(e);
  return error(`unexpected ${describe(token)}`, span, expected ? `expected ${expected}` : undefined);
}

/** Chevrotain's messages list token-type names; turn the first expected token of each path into words. */
function expectedFrom(e: IRecognitionException): string {
  const m = /Expecting(?: --> | token of type --> |: one of these possible Token sequences:)([\s\S]*?)(?:<--|but found)/.exec(e.message);
  const names = new Set<string>();
  const source = m ? m[1]! : e.message;
  for (const seq of source.matchAll(/\[([^\]]*)\]|(\b[A-Z][A-Za-z]*\b)/g)) {
    const first = (seq[1] ?? seq[2] ?? '').split(',')[0]!.trim();
    if (first) names.add(first);
  }
  // An expression can start with many tokens; naming them all helps nobody.
  if (names.has('NumberLiteral') && names.has('Identifier') && names.has('LParen')) return 'an expression';
  const words = [...names].map(label).filter((w) => w.length > 0);
  if (words.length === 0) return '';
  if (words.length > 6) return `${words.slice(0, 6).join(', ')}, …`;
  return words.length === 1 ? words[0]! : `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`;
}

function label(tokenName: string): string {
  if (tokenLabels[tokenName]) return tokenLabels[tokenName]!;
  const punct: Record<string, string> = {
    Power: "'**'", FloorDiv: "'//'", Star: "'*'", Slash: "'/'", Plus: "'+'", Minus: "'-'", Percent: "'%'",
    EqEq: "'=='", NotEq: "'!='", LessEq: "'<='", GreaterEq: "'>='", Less: "'<'", Greater: "'>'",
  };
  if (punct[tokenName]) return punct[tokenName]!;
  return /^[A-Z][a-z]+$/.test(tokenName) ? `'${tokenName.toLowerCase()}'` : '';
}
