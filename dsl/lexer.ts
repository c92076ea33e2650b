// Tokens of the .moe language. Keywords are matched before identifiers (chevrotain's longer_alt keeps `layers` an identifier).
import { createToken, Lexer, type TokenType } from 'chevrotain';

export const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /[ \t\r\n]+/, group: Lexer.SKIPPED });
export const Comment = createToken({ name: 'Comment', pattern: /#[^\n]*/, group: Lexer.SKIPPED });

export const Identifier = createToken({ name: 'Identifier', pattern: /[A-Za-z_][A-Za-z0-9_]*/ });
const keyword = (word: string): TokenType =>
  createToken({ name: word[0]!.toUpperCase() + word.slice(1), pattern: new RegExp(`${word}\\b`), longer_alt: Identifier });

export const Import = keyword('import');
export const Let = keyword('let');
export const Param = keyword('param');
export const Extends = keyword('extends');
export const If = keyword('if');
export const Else = keyword('else');
export const And = keyword('and');
export const Or = keyword('or');
export const Not = keyword('not');
export const True = keyword('true');
export const False = keyword('false');
export const None = keyword('none');

export const NumberLiteral = createToken({
  name: 'NumberLiteral',
  pattern: /(?:\d[\d_]*)?\.?\d[\d_]*(?:[eE][+-]?\d+)?/,
});
export const StringLiteral = createToken({ name: 'StringLiteral', pattern: /"(?:[^"\\\n]|\\.)*"/ });

export const Power = createToken({ name: 'Power', pattern: /\*\*/ });
export const FloorDiv = createToken({ name: 'FloorDiv', pattern: /\/\// });
export const Star = createToken({ name: 'Star', pattern: /\*/ });
export const Slash = createToken({ name: 'Slash', pattern: /\// });
export const Plus = createToken({ name: 'Plus', pattern: /\+/ });
export const Minus = createToken({ name: 'Minus', pattern: /-/ });
export const Percent = createToken({ name: 'Percent', pattern: /%/ });
export const EqEq = createToken({ name: 'EqEq', pattern: /==/ });
export const NotEq = createToken({ name: 'NotEq', pattern: /!=/ });
export const LessEq = createToken({ name: 'LessEq', pattern: /<=/ });
export const GreaterEq = createToken({ name: 'GreaterEq', pattern: />=/ });
export const Less = createToken({ name: 'Less', pattern: /</ });
export const Greater = createToken({ name: 'Greater', pattern: />/ });
export const Equals = createToken({ name: 'Equals', pattern: /=/ });
export const Colon = createToken({ name: 'Colon', pattern: /:/ });
export const Comma = createToken({ name: 'Comma', pattern: /,/ });
export const LBrace = createToken({ name: 'LBrace', pattern: /\{/ });
export const RBrace = createToken({ name: 'RBrace', pattern: /\}/ });
export const LBracket = createToken({ name: 'LBracket', pattern: /\[/ });
export const RBracket = createToken({ name: 'RBracket', pattern: /\]/ });
export const LParen = createToken({ name: 'LParen', pattern: /\(/ });
export const RParen = createToken({ name: 'RParen', pattern: /\)/ });

export const allTokens: TokenType[] = [
  WhiteSpace, Comment,
  Import, Let, Param, Extends, If, Else, And, Or, Not, True, False, None,
  Identifier, NumberLiteral, StringLiteral,
  Power, FloorDiv, Star, Slash, Plus, Minus, Percent,
  EqEq, NotEq, LessEq, GreaterEq, Less, Greater, Equals,
  Colon, Comma, LBrace, RBrace, LBracket, RBracket, LParen, RParen,
];

export const moeLexer = new Lexer(allTokens, { positionTracking: 'full', ensureOptimizations: false });

/** Words a reader sees in messages instead of token-type names. */
export const tokenLabels: Record<string, string> = {
  Identifier: 'a name', NumberLiteral: 'a number', StringLiteral: 'a string',
  LBrace: "'{'", RBrace: "'}'", LBracket: "'['", RBracket: "']'", LParen: "'('", RParen: "')'",
  Colon: "':'", Comma: "','", Equals: "'='", EOF: 'end of file',
};
