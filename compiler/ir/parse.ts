// Reads the textual graph IR (print.ts) back into the identical graph. Syntax only: op names, operand counts,
// attribute kinds and dominance are the verifier's business (verify.ts).
//
// A hand-written tokenizer over char codes and a recursive-descent parser with one token of lookahead; every
// item ends at the end of its line. `//` comments and blank lines are ignored.
import { isBareDim, isIrName } from './print.ts';
import { dtypes, type Attr, type Dim, type DType, type Graph, type Node, type TensorType } from './types.ts';

export class IrParseError extends Error {
  override readonly name = 'IrParseError';
  /** The message without the `file:line:col: ` prefix. */
  readonly reason: string;

  constructor(readonly file: string, readonly line: number, readonly col: number, reason: string) {
    super(`${file}:${line}:${col}: ${reason}`);
    this.reason = reason;
  }
}

// ---- tokens ------------------------------------------------------------------------------------------------

const enum K {
  /** A run of `[A-Za-z0-9_.*+-]`: keywords, names, numbers, symbolic dims, dtypes. */
  Word,
  /** `%name` */
  Value,
  /** `@name` */
  Param,
  /** A JSON string; `text` is the decoded value. */
  Str,
  /** One of `{ } ( ) [ ] , = :` */
  Punct,
  Newline,
  Eof,
}

interface Tok {
  kind: K;
  text: string;
  start: number;
  end: number;
  line: number;
  col: number;
}

const NAME = 1; // [A-Za-z0-9_.-]: value and param names
const WORD = 2; // names plus * and +
const charClass = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z0-9_.-]/.test(ch)) charClass[c] = NAME | WORD;
  else if (ch === '*' || ch === '+') charClass[c] = WORD;
}
const PUNCT = '{}()[],=:';
const OPENERS: Record<string, string> = { '(': ')', '[': ']', '{': '}' };
const dtypeSet: ReadonlySet<string> = new Set(dtypes);
const dtypeList = `${dtypes.slice(0, -1).join(', ')} or ${dtypes[dtypes.length - 1]}`;

function isNameChar(c: number): boolean {
  return c < 128 && (charClass[c]! & NAME) !== 0;
}

function isWordChar(c: number): boolean {
  return c < 128 && (charClass[c]! & WORD) !== 0;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** `-?digits(.digits)?([eE][+-]?digits)?`, `NaN`, `Infinity`, `-Infinity`: the forms print.ts writes. */
function isNumberWord(s: string): boolean {
  let i = 0;
  const n = s.length;
  if (s === 'NaN') return true;
  if (s.charCodeAt(0) === 45) i++;
  if (n - i === 8 && s.endsWith('Infinity')) return true;
  const digits = () => {
    const from = i;
    while (i < n && isDigit(s.charCodeAt(i))) i++;
    return i > from;
  };
  if (!digits()) return false;
  if (i < n && s.charCodeAt(i) === 46) {
    i++;
    if (!digits()) return false;
  }
  if (i < n && (s.charCodeAt(i) === 101 || s.charCodeAt(i) === 69)) {
    i++;
    if (i < n && (s.charCodeAt(i) === 43 || s.charCodeAt(i) === 45)) i++;
    if (!digits()) return false;
  }
  return i === n;
}

class Lexer {
  pos = 0;
  line = 1;
  lineStart = 0;

  constructor(private readonly src: string, private readonly file: string) {}

  private fail(pos: number, line: number, lineStart: number, reason: string): never {
    throw new IrParseError(this.file, line, pos - lineStart + 1, reason);
  }

  next(): Tok {
    const src = this.src;
    const n = src.length;
    let i = this.pos;
    // Spaces, tabs, carriage returns and comments; a newline is a token.
    for (;;) {
      if (i >= n) break;
      const c = src.charCodeAt(i);
      if (c === 32 || c === 9 || c === 13) {
        i++;
      } else if (c === 47 && src.charCodeAt(i + 1) === 47) {
        i += 2;
        while (i < n && src.charCodeAt(i) !== 10) i++;
      } else {
        break;
      }
    }
    const line = this.line;
    const col = i - this.lineStart + 1;
    if (i >= n) {
      this.pos = i;
      return { kind: K.Eof, text: '', start: i, end: i, line, col };
    }
    const c = src.charCodeAt(i);
    if (c === 10) {
      this.pos = i + 1;
      this.line++;
      this.lineStart = i + 1;
      return { kind: K.Newline, text: '\n', start: i, end: i + 1, line, col };
    }
    const start = i;
    if (c === 37 || c === 64) {
      i++;
      while (i < n && isNameChar(src.charCodeAt(i))) i++;
      if (i === start + 1) {
        this.fail(i, line, this.lineStart, `'${src[start]}' without a name (expected ${c === 37 ? 'a value name such as %0' : 'a parameter name such as @embed'})`);
      }
      this.pos = i;
      return { kind: c === 37 ? K.Value : K.Param, text: src.slice(start, i), start, end: i, line, col };
    }
    if (isWordChar(c)) {
      i++;
      while (i < n && isWordChar(src.charCodeAt(i))) i++;
      this.pos = i;
      return { kind: K.Word, text: src.slice(start, i), start, end: i, line, col };
    }
    if (c === 34) {
      i++;
      let escaped = false;
      for (;;) {
        if (i >= n || src.charCodeAt(i) === 10) this.fail(start, line, this.lineStart, `unterminated string (expected a closing '"' before the end of the line)`);
        const d = src.charCodeAt(i);
        if (d === 34) break;
        if (d === 92) {
          escaped = true;
          i++;
          if (i < n && src.charCodeAt(i) === 10) continue;
        }
        i++;
      }
      i++;
      const raw = src.slice(start, i);
      let text: string;
      if (!escaped) {
        text = raw.slice(1, -1);
      } else {
        try {
          text = JSON.parse(raw) as string;
        } catch {
          this.fail(start, line, this.lineStart, `invalid escape in string ${raw} (expected JSON escapes such as \\" \\\\ \\n \\u0041)`);
        }
      }
      this.pos = i;
      return { kind: K.Str, text, start, end: i, line, col };
    }
    if (PUNCT.includes(src[i]!)) {
      this.pos = i + 1;
      return { kind: K.Punct, text: src[i]!, start, end: i + 1, line, col };
    }
    const cp = src.codePointAt(i)!;
    const shown = cp < 32 || cp === 127 ? `U+${cp.toString(16).toUpperCase().padStart(4, '0')}` : `'${String.fromCodePoint(cp)}'`;
    this.fail(i, line, this.lineStart, `unexpected character ${shown} (expected a name, a number, a string or one of { } ( ) [ ] , = :)`);
  }
}

// ---- parser ------------------------------------------------------------------------------------------------

function setKey<T>(obj: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

class Parser {
  private readonly lexer: Lexer;
  private tok: Tok;
  private readonly defined = new Map<string, Tok>();

  constructor(private readonly src: string, private readonly file: string) {
    this.lexer = new Lexer(src, file);
    this.tok = this.lexer.next();
  }

  private advance(): Tok {
    const t = this.tok;
    this.tok = this.lexer.next();
    return t;
  }

  private fail(t: Tok, reason: string): never {
    throw new IrParseError(this.file, t.line, t.col, reason);
  }

  private describe(t: Tok): string {
    switch (t.kind) {
      case K.Newline: return 'end of line';
      case K.Eof: return 'end of input';
      default: {
        const raw = this.src.slice(t.start, t.end);
        return `'${raw.length > 40 ? `${raw.slice(0, 40)}…` : raw}'`;
      }
    }
  }

  private unexpected(expected: string, t: Tok = this.tok): never {
    this.fail(t, `unexpected ${this.describe(t)} (expected ${expected})`);
  }

  private isPunct(p: string): boolean {
    return this.tok.kind === K.Punct && this.tok.text === p;
  }

  private isWord(w: string): boolean {
    return this.tok.kind === K.Word && this.tok.text === w;
  }

  private punct(p: string, expected = `'${p}'`): Tok {
    if (!this.isPunct(p)) this.unexpected(expected);
    return this.advance();
  }

  /** Inside a bracketed list, where `expected` was wanted: a missing closer is an unbalanced bracket. */
  private inList(open: Tok, expected: string): never {
    const t = this.tok;
    const closer = OPENERS[open.text]!;
    if (t.kind === K.Newline || t.kind === K.Eof || (t.kind === K.Punct && ')]}'.includes(t.text) && t.text !== closer)) {
      this.fail(t, `unbalanced brackets: '${open.text}' at ${open.line}:${open.col} is not closed before ${this.describe(t)} (expected ${expected})`);
    }
    this.unexpected(expected);
  }

  /** `open item (, item)* close`, or `open close`. */
  private list(openCh: string, what: string, item: () => void): void {
    const open = this.punct(openCh);
    const closer = OPENERS[openCh]!;
    if (this.isPunct(closer)) {
      this.advance();
      return;
    }
    for (;;) {
      item();
      if (this.isPunct(',')) {
        this.advance();
        continue;
      }
      if (this.isPunct(closer)) {
        this.advance();
        return;
      }
      this.inList(open, `',' or '${closer}' after ${what}`);
    }
  }

  private name(what: string): string {
    const t = this.tok;
    if (t.kind === K.Str || (t.kind === K.Word && isIrName(t.text))) return this.advance().text;
    this.unexpected(what);
  }

  private define(t: Tok): void {
    const first = this.defined.get(t.text);
    if (first) this.fail(t, `${t.text} is defined twice (expected a new value name; the first definition is at ${first.line}:${first.col})`);
    this.defined.set(t.text, t);
  }

  private dim(open: Tok): Dim {
    const t = this.tok;
    if (t.kind === K.Str) return this.advance().text;
    if (t.kind === K.Word) {
      if (isNumberWord(t.text)) return Number(this.advance().text);
      if (isBareDim(t.text)) return this.advance().text;
      this.fail(t, `invalid dimension '${t.text}' (expected a number or a symbolic product such as 2*batch*seq)`);
    }
    this.inList(open, 'a dimension');
  }

  private dims(): Dim[] {
    const out: Dim[] = [];
    const open = this.tok;
    this.list('[', 'a dimension', () => out.push(this.dim(open)));
    return out;
  }

  private type(): TensorType {
    const t = this.tok;
    if (t.kind !== K.Word) this.unexpected('a type such as f32[batch, 64]');
    if (!dtypeSet.has(t.text)) this.fail(t, `unknown dtype '${t.text}' (expected ${dtypeList})`);
    this.advance();
    if (!this.isPunct('[')) this.unexpected(`'[' after the dtype ${t.text}`);
    return { dtype: t.text as DType, shape: this.dims() };
  }

  private attrValue(): Attr {
    const t = this.tok;
    if (t.kind === K.Str) return this.advance().text;
    if (t.kind === K.Word) {
      if (isNumberWord(t.text)) return Number(this.advance().text);
      if (t.text === 'true' || t.text === 'false') return this.advance().text === 'true';
      if (isBareDim(t.text)) return this.advance().text;
      this.fail(t, `invalid attribute value '${t.text}' (expected a number, true, false, a string, a symbolic dim or a [list])`);
    }
    if (this.isPunct('[')) return this.dims();
    this.unexpected('an attribute value');
  }

  private attrs(): Record<string, Attr> {
    const out: Record<string, Attr> = {};
    if (!this.isPunct('{')) return out;
    const open = this.tok;
    this.list('{', 'an attribute', () => {
      const k = this.tok;
      if (!(k.kind === K.Str || (k.kind === K.Word && isIrName(k.text)))) this.inList(open, 'an attribute name');
      this.advance();
      if (Object.prototype.hasOwnProperty.call(out, k.text)) this.fail(k, `attribute '${k.text}' is given twice (expected each attribute once)`);
      if (!this.isPunct('=')) this.fail(this.tok, `missing '=' after the attribute '${k.text}' (expected '=', found ${this.describe(this.tok)})`);
      this.advance();
      setKey(out, k.text, this.attrValue());
    });
    return out;
  }

  private ref(what: string): string {
    const t = this.tok;
    if (t.kind === K.Value || t.kind === K.Param) return this.advance().text;
    this.unexpected(what);
  }

  private node(): Node {
    const outputs: string[] = [];
    if (this.tok.kind === K.Value) {
      for (;;) {
        const v = this.advance();
        this.define(v);
        outputs.push(v.text);
        if (!this.isPunct(',')) break;
        this.advance();
        if (this.tok.kind !== K.Value) this.unexpected(`a result %name after ','`);
      }
      if (!this.isPunct('=')) this.fail(this.tok, `missing '=' after the results (expected '=' or ',', found ${this.describe(this.tok)})`);
      this.advance();
    }
    const op = this.name('an op name');
    const inputs: string[] = [];
    const open = this.tok;
    if (!this.isPunct('(')) this.unexpected(`'(' after the op name ${op}`);
    this.list('(', 'an operand', () => {
      if (this.tok.kind !== K.Value && this.tok.kind !== K.Param) this.inList(open, 'a %value or @param operand');
      inputs.push(this.advance().text);
    });
    const node: Node = { op, inputs, outputs, attrs: this.attrs() };
    if (this.isPunct(':')) {
      this.advance();
      const types: TensorType[] = [];
      if (this.isPunct('(')) {
        const o = this.advance();
        if (!this.isPunct(')')) this.inList(o, `')' (an empty type list)`);
        this.advance();
      } else {
        types.push(this.type());
        while (this.isPunct(',')) {
          this.advance();
          types.push(this.type());
        }
      }
      node.types = types;
    }
    if (this.isWord('loc')) {
      this.advance();
      const o = this.punct('(', `'(' after loc`);
      if (this.tok.kind !== K.Str) this.inList(o, 'a quoted location such as "decoder.0.moe"');
      node.loc = this.advance().text;
      if (!this.isPunct(')')) this.inList(o, `')'`);
      this.advance();
    }
    return node;
  }

  /** A keyword starts an item unless an op of that name is called right after it: `output(%x)`. */
  private isKeyword(w: string): boolean {
    return this.isWord(w) && this.src.charCodeAt(this.tok.end) !== 40;
  }

  private skipNewlines(): void {
    while (this.tok.kind === K.Newline) this.advance();
  }

  graph(): Graph {
    this.skipNewlines();
    if (!this.isWord('graph')) this.unexpected(`'graph'`);
    this.advance();
    const name = this.name('a graph name');
    const open = this.punct('{', `'{' after the graph name`);
    const g: Graph = { name, inputs: [], params: [], nodes: [], outputs: [] };
    if (!this.isPunct('}') && this.tok.kind !== K.Newline && this.tok.kind !== K.Eof) this.unexpected(`end of line after '{'`);
    for (;;) {
      this.skipNewlines();
      if (this.isPunct('}')) break;
      if (this.tok.kind === K.Eof) {
        this.fail(this.tok, `unbalanced brackets: '{' at ${open.line}:${open.col} is not closed before end of input (expected an item or '}')`);
      }
      let what: string;
      if (this.isKeyword('input')) {
        this.advance();
        if (this.tok.kind !== K.Value) this.unexpected('an input %name');
        const v = this.advance();
        this.define(v);
        this.punct(':', `':' after ${v.text}`);
        g.inputs.push({ name: v.text.slice(1), type: this.type() });
        what = 'input';
      } else if (this.isKeyword('param')) {
        this.advance();
        if (this.tok.kind !== K.Param) this.unexpected('a parameter @name');
        const p = this.advance();
        this.punct(':', `':' after ${p.text}`);
        const type = this.type();
        g.params.push({ name: p.text.slice(1), type, attrs: this.attrs() });
        what = 'param';
      } else if (this.isKeyword('output')) {
        this.advance();
        const name = this.name('an output name');
        if (!this.isPunct('=')) this.fail(this.tok, `missing '=' after the output name ${name} (expected '=', found ${this.describe(this.tok)})`);
        this.advance();
        g.outputs.push({ name, value: this.ref('a %value') });
        what = 'output';
      } else if (this.tok.kind === K.Value || this.tok.kind === K.Word || this.tok.kind === K.Str) {
        g.nodes.push(this.node());
        what = 'node';
      } else {
        this.unexpected(`input, param, output, a node or '}'`);
      }
      if (this.tok.kind !== K.Newline && this.tok.kind !== K.Eof && !this.isPunct('}')) this.unexpected(`end of line after the ${what}`);
    }
    this.advance();
    this.skipNewlines();
    if (this.tok.kind !== K.Eof) this.unexpected('end of input after the graph');
    return g;
  }
}

/** Parses the textual IR; throws IrParseError (`file:line:col: …`) on malformed text. */
export function parseGraph(text: string, file = '<ir>'): Graph {
  return new Parser(text, file).graph();
}
