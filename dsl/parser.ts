// The .moe grammar as a chevrotain parser. It builds the AST directly; error recovery lets one run report several syntax errors.
import { EmbeddedActionsParser, EOF, type IToken, type TokenType } from 'chevrotain';
import * as T from './lexer.ts';
import type { BinaryOp, Definition, Expr, Field, Let, Module, Name, Statement } from './ast.ts';
import { spanAt, type Span } from './source.ts';

export class MoeParser extends EmbeddedActionsParser {
  file = '<input>';
  text = '';

  constructor() {
    super(T.allTokens, { recoveryEnabled: true, maxLookahead: 3 });
    this.performSelfAnalysis();
  }

  spanOf(first: IToken, last: IToken = first): Span {
    if (first.startOffset === undefined || Number.isNaN(first.startOffset)) {
      return spanAt(this.file, this.text, this.text.length, this.text.length);
    }
    // A token that error recovery inserted has no offsets: the span ends where the first token ends.
    const lastEnd = Number.isFinite(last.endOffset) ? last.endOffset! : Number.isFinite(first.endOffset) ? first.endOffset! : first.startOffset;
    const end = lastEnd + 1;
    return spanAt(this.file, this.text, first.startOffset, end);
  }

  join(a: Span | undefined, b: Span | undefined): Span {
    // While chevrotain records the grammar, and after error recovery re-syncs a sub-rule, sub-rules return no node
    // (so every action reads sub-results' spans with ?.).
    if (!a || !b) return a ?? b ?? spanAt(this.file, this.text, 0, 0);
    return { ...a, end: Math.max(a.end, b.end) };
  }

  public module = this.RULE('module', (): Module => {
    const statements: Statement[] = [];
    this.MANY(() => {
      const s = this.SUBRULE(this.statement);
      this.ACTION(() => { if (s) statements.push(s); });
    });
    return { file: this.file, statements };
  });

  statement = this.RULE('statement', (): Statement | undefined =>
    this.OR([
      { ALT: () => this.SUBRULE(this.importStatement) },
      { ALT: () => this.SUBRULE(this.letStatement) },
      { ALT: () => this.SUBRULE(this.definition) },
    ]),
  );

  importStatement = this.RULE('importStatement', (): Statement | undefined => {
    const kw = this.CONSUME(T.Import);
    const path = this.CONSUME(T.StringLiteral);
    // A path that error recovery made up (`import` with no string) is a syntax error already, not a file to look for.
    if (path.isInsertedInRecovery) return undefined;
    return { kind: 'import', path: unquote(path.image), span: this.spanOf(kw, path) };
  });

  letStatement = this.RULE('letStatement', (): Let => {
    const kw = this.OR([{ ALT: () => this.CONSUME(T.Let) }, { ALT: () => this.CONSUME(T.Param) }]);
    const name = this.SUBRULE(this.name);
    this.CONSUME(T.Equals);
    const value = this.SUBRULE(this.expr);
    return this.ACTION(() => ({
      kind: 'let', overridable: kw.tokenType === T.Param, name, value, span: this.join(this.spanOf(kw), value?.span),
    }));
  });

  definition = this.RULE('definition', (): Definition => {
    const type = this.SUBRULE(this.name);
    const name = this.SUBRULE2(this.name);
    let base: Name | undefined;
    this.OPTION(() => {
      this.CONSUME(T.Extends);
      base = this.SUBRULE3(this.name);
    });
    this.CONSUME(T.LBrace);
    const fields = this.SUBRULE(this.fields);
    const close = this.CONSUME(T.RBrace);
    return this.ACTION(() => ({ kind: 'def', type, name, base, fields, span: this.join(type?.span, this.spanOf(close)) }));
  });

  fields = this.RULE('fields', (): Field[] => {
    const fields: Field[] = [];
    this.MANY(() => {
      const f = this.SUBRULE(this.field);
      this.OPTION(() => this.CONSUME(T.Comma));
      this.ACTION(() => fields.push(f));
    });
    return fields;
  });

  field = this.RULE('field', (): Field => {
    const key = this.OR([
      { ALT: () => this.SUBRULE(this.name) },
      {
        ALT: () => {
          const t = this.CONSUME(T.StringLiteral);
          return { name: unquote(t.image), span: this.spanOf(t) };
        },
      },
    ]);
    this.CONSUME(T.Colon);
    const value = this.SUBRULE(this.expr);
    return this.ACTION(() => ({ key, value, span: this.join(key?.span, value?.span) }));
  });

  name = this.RULE('name', (): Name => {
    const t = this.CONSUME(T.Identifier);
    return { name: t.image, span: this.spanOf(t) };
  });

  expr = this.RULE('expr', (): Expr => {
    const value = this.SUBRULE(this.orExpr);
    let result = value;
    this.OPTION(() => {
      this.CONSUME(T.If);
      const test = this.SUBRULE2(this.orExpr);
      this.CONSUME(T.Else);
      const otherwise = this.SUBRULE(this.expr);
      result = this.ACTION(() => ({ kind: 'cond', test, then: value, otherwise, span: this.join(value?.span, otherwise?.span) }) as Expr);
    });
    return result;
  });

  orExpr = this.RULE('orExpr', (): Expr => this.binaryChain(() => this.SUBRULE(this.andExpr), () => this.SUBRULE2(this.andExpr), [T.Or]));
  andExpr = this.RULE('andExpr', (): Expr => this.binaryChain(() => this.SUBRULE(this.notExpr), () => this.SUBRULE2(this.notExpr), [T.And]));

  notExpr = this.RULE('notExpr', (): Expr =>
    this.OR([
      {
        ALT: () => {
          const kw = this.CONSUME(T.Not);
          const operand = this.SUBRULE(this.notExpr);
          return this.ACTION(() => ({ kind: 'unary', op: 'not', operand, span: this.join(this.spanOf(kw), operand?.span) }) as Expr);
        },
      },
      { ALT: () => this.SUBRULE(this.compareExpr) },
    ]),
  );

  compareExpr = this.RULE('compareExpr', (): Expr => {
    const left = this.SUBRULE(this.addExpr);
    let result = left;
    this.OPTION(() => {
      const op = this.OR([
        { ALT: () => this.CONSUME(T.EqEq) }, { ALT: () => this.CONSUME(T.NotEq) },
        { ALT: () => this.CONSUME(T.LessEq) }, { ALT: () => this.CONSUME(T.GreaterEq) },
        { ALT: () => this.CONSUME(T.Less) }, { ALT: () => this.CONSUME(T.Greater) },
      ]);
      const right = this.SUBRULE2(this.addExpr);
      result = this.ACTION(() => ({ kind: 'binary', op: op.image as BinaryOp, left, right, span: this.join(left?.span, right?.span) }) as Expr);
    });
    return result;
  });

  addExpr = this.RULE('addExpr', (): Expr => this.binaryChain(() => this.SUBRULE(this.mulExpr), () => this.SUBRULE2(this.mulExpr), [T.Plus, T.Minus]));
  mulExpr = this.RULE('mulExpr', (): Expr =>
    this.binaryChain(() => this.SUBRULE(this.unaryExpr), () => this.SUBRULE2(this.unaryExpr), [T.Star, T.Slash, T.FloorDiv, T.Percent]),
  );

  unaryExpr = this.RULE('unaryExpr', (): Expr =>
    this.OR([
      {
        ALT: () => {
          const minus = this.CONSUME(T.Minus);
          const operand = this.SUBRULE(this.unaryExpr);
          return this.ACTION(() => ({ kind: 'unary', op: '-', operand, span: this.join(this.spanOf(minus), operand?.span) }) as Expr);
        },
      },
      { ALT: () => this.SUBRULE(this.powerExpr) },
    ]),
  );

  powerExpr = this.RULE('powerExpr', (): Expr => {
    const base = this.SUBRULE(this.primary);
    let result = base;
    this.OPTION(() => {
      this.CONSUME(T.Power);
      const exponent = this.SUBRULE(this.unaryExpr);
      result = this.ACTION(() => ({ kind: 'binary', op: '**', left: base, right: exponent, span: this.join(base?.span, exponent?.span) }) as Expr);
    });
    return result;
  });

  primary = this.RULE('primary', (): Expr =>
    this.OR([
      {
        ALT: () => {
          const t = this.CONSUME(T.NumberLiteral);
          return { kind: 'number', value: Number(t.image.replace(/_/g, '')), span: this.spanOf(t) } as Expr;
        },
      },
      {
        ALT: () => {
          const t = this.CONSUME(T.StringLiteral);
          return { kind: 'string', value: unquote(t.image), span: this.spanOf(t) } as Expr;
        },
      },
      { ALT: () => { const t = this.CONSUME(T.True); return { kind: 'bool', value: true, span: this.spanOf(t) } as Expr; } },
      { ALT: () => { const t = this.CONSUME(T.False); return { kind: 'bool', value: false, span: this.spanOf(t) } as Expr; } },
      { ALT: () => { const t = this.CONSUME(T.None); return { kind: 'none', span: this.spanOf(t) } as Expr; } },
      {
        ALT: () => {
          const open = this.CONSUME(T.LParen);
          const inner = this.SUBRULE(this.expr);
          const close = this.CONSUME(T.RParen);
          return this.ACTION(() => ({ ...inner, span: this.join(this.spanOf(open), this.spanOf(close)) }));
        },
      },
      { ALT: () => this.SUBRULE(this.list) },
      { ALT: () => this.SUBRULE(this.objectLiteral) },
      { ALT: () => this.SUBRULE(this.nameOrCallOrTyped) },
    ]),
  );

  list = this.RULE('list', (): Expr => {
    const open = this.CONSUME(T.LBracket);
    const items: Expr[] = [];
    this.MANY_SEP({ SEP: T.Comma, DEF: () => { const e = this.SUBRULE(this.expr); this.ACTION(() => items.push(e)); } });
    const close = this.CONSUME(T.RBracket);
    return { kind: 'list', items, span: this.join(this.spanOf(open), this.spanOf(close)) };
  });

  objectLiteral = this.RULE('objectLiteral', (): Expr => {
    const open = this.CONSUME(T.LBrace);
    const fields = this.SUBRULE(this.fields);
    const close = this.CONSUME(T.RBrace);
    return { kind: 'object', fields, span: this.join(this.spanOf(open), this.spanOf(close)) };
  });

  /** `name`, `f(a, b)`, `kind { fields }` or `kind extends base { fields }`. */
  nameOrCallOrTyped = this.RULE('nameOrCallOrTyped', (): Expr => {
    const head = this.SUBRULE(this.name);
    return this.OR([
      {
        ALT: () => {
          this.CONSUME(T.LParen);
          const args: Expr[] = [];
          this.MANY_SEP({ SEP: T.Comma, DEF: () => { const e = this.SUBRULE(this.expr); this.ACTION(() => args.push(e)); } });
          const close = this.CONSUME(T.RParen);
          return { kind: 'call', callee: head?.name, args, span: this.join(head?.span, this.spanOf(close)) } as Expr;
        },
      },
      {
        ALT: () => {
          let base: Name | undefined;
          this.OPTION(() => {
            this.CONSUME(T.Extends);
            base = this.SUBRULE2(this.name);
          });
          this.CONSUME(T.LBrace);
          const fields = this.SUBRULE(this.fields);
          const close = this.CONSUME(T.RBrace);
          return { kind: 'object', type: head, base, fields, span: this.join(head?.span, this.spanOf(close)) } as Expr;
        },
      },
      { ALT: () => ({ kind: 'name', name: head?.name, span: head?.span }) as Expr },
    ]);
  });

  private binaryChain(first: () => Expr, next: () => Expr, ops: TokenType[]): Expr {
    let left = first();
    this.MANY(() => {
      const op = this.OR(ops.map((tok) => ({ ALT: () => this.CONSUME(tok) })));
      const right = next();
      left = this.ACTION(() => ({ kind: 'binary', op: op.image as BinaryOp, left, right, span: this.join(left?.span, right?.span) }) as Expr);
    });
    return left;
  }
}

function unquote(image: string): string {
  // During chevrotain's grammar recording the image is a placeholder, not a literal.
  if (!image.startsWith('"')) return image;
  try {
    return JSON.parse(image) as string;
  } catch {
    return image.slice(1, -1);
  }
}

export { EOF };
