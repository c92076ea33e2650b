// The abstract syntax of a .moe file. Plain data: every node carries the span it came from.
import type { Span } from './source.ts';

export type Expr =
  | { kind: 'number'; value: number; span: Span }
  | { kind: 'string'; value: string; span: Span }
  | { kind: 'bool'; value: boolean; span: Span }
  | { kind: 'none'; span: Span }
  | { kind: 'name'; name: string; span: Span }
  | { kind: 'unary'; op: '-' | 'not'; operand: Expr; span: Span }
  | { kind: 'binary'; op: BinaryOp; left: Expr; right: Expr; span: Span }
  | { kind: 'cond'; test: Expr; then: Expr; otherwise: Expr; span: Span }
  | { kind: 'call'; callee: string; args: Expr[]; span: Span }
  | { kind: 'list'; items: Expr[]; span: Span }
  | { kind: 'object'; type?: Name; base?: Name; fields: Field[]; span: Span };

export type BinaryOp = '+' | '-' | '*' | '/' | '//' | '%' | '**' | '==' | '!=' | '<' | '<=' | '>' | '>=' | 'and' | 'or';

export interface Name {
  name: string;
  span: Span;
}

export interface Field {
  key: Name;
  value: Expr;
  span: Span;
}

/** `import "path.moe"` */
export interface Import {
  kind: 'import';
  path: string;
  span: Span;
}

/** `let NAME = expr` (a constant) or `param NAME = expr` (a constant a user may override with --set). */
export interface Let {
  kind: 'let';
  overridable: boolean;
  name: Name;
  value: Expr;
  span: Span;
}

/** `KIND NAME [extends BASE] { fields }`: a named component, the same as `let NAME = KIND { fields }`. */
export interface Definition {
  kind: 'def';
  type: Name;
  name: Name;
  base?: Name;
  fields: Field[];
  span: Span;
}

export type Statement = Import | Let | Definition;

export interface Module {
  file: string;
  statements: Statement[];
}
