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
// The current token lives in the parser's fields (no token objects). Its kind is one of these, or the char code
// of a punctuation mark: { } ( ) [ ] , = :  (Typed `number` so that checks of the current kind are not narrowed
// across advance().)

/** A run of `[A-Za-z0-9_.*+-]`: keywords, names, numbers, symbolic dims, dtypes. */
const WORD: number = 1;
/** `%name` */
const VALUE: number = 2;
/** `@name` */
const PARAM: number = 3;
/** A JSON string; the token text is the decoded value. */
const STR: number = 4;
const NEWLINE: number = 5;
const EOF: number = 6;
const LPAREN: number = 40;
const RPAREN: number = 41;
const COMMA: number = 44;
const COLON: number = 58;
const EQ: number = 61;
const LBRACK: number = 91;
const RBRACK: number = 93;
const LBRACE: number = 123;
const RBRACE: number = 125;

const NAME_CHAR = 1; // [A-Za-z0-9_.-]: value and param names
const WORD_CHAR = 2; // names plus * and +
const PUNCT_CHAR = 4;
const charClass = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z0-9_.-]/.test(ch)) charClass[c] = NAME_CHAR | WORD_CHAR;
  else if (ch === '*' || ch === '+') charClass[c] = WORD_CHAR;
  else if ('{}()[],=:'.includes(ch)) charClass[c] = PUNCT_CHAR;
}
const closerOf = (open: number): number => (open === LPAREN ? RPAREN : open === LBRACK ? RBRACK : RBRACE);
const dtypeSet: ReadonlySet<string> = new Set(dtypes);
const dtypeList = `${dtypes.slice(0, -1).join(', ')} or ${dtypes[dtypes.length - 1]}`;

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** `-?digits(.digits)?([eE][+-]?digits)?`, `NaN`, `Infinity`, `-Infinity`: the forms print.ts writes. */
function isNumberWord(s: string): boolean {
  const n = s.length;
  let i = 0;
  if (s.charCodeAt(0) === 45) i++;
  if (!isDigit(s.charCodeAt(i))) return s === 'NaN' || s === 'Infinity' || s === '-Infinity';
  while (i < n && isDigit(s.charCodeAt(i))) i++;
  if (i < n && s.charCodeAt(i) === 46) {
    i++;
    if (!isDigit(s.charCodeAt(i))) return false;
    while (i < n && isDigit(s.charCodeAt(i))) i++;
  }
  if (i < n && (s.charCodeAt(i) === 101 || s.charCodeAt(i) === 69)) {
    i++;
    if (s.charCodeAt(i) === 43 || s.charCodeAt(i) === 45) i++;
    if (!isDigit(s.charCodeAt(i))) return false;
    while (i < n && isDigit(s.charCodeAt(i))) i++;
  }
  return i === n;
}

function setKey<T>(obj: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

// ---- parser ------------------------------------------------------------------------------------------------

class Parser {
  // The scanner's position.
  private pos = 0;
  private line = 1;
  private lineStart = 0;
  // The current token.
  private kind = EOF;
  private text = '';
  private start = 0;
  private end = 0;
  private tokLine = 1;
  private tokCol = 1;
  /** Each defined %value → where: line · 2^26 + column. */
  private readonly defined = new Map<string, number>();

  constructor(private readonly src: string, private readonly file: string) {
    this.advance();
  }

  // ---- scanning ----

  private failAt(line: number, col: number, reason: string): never {
    throw new IrParseError(this.file, line, col, reason);
  }

  /** Moves to the next token. */
  private advance(): void {
    const src = this.src;
    const n = src.length;
    let i = this.pos;
    // Spaces, tabs, carriage returns and comments; a newline is a token.
    while (i < n) {
      const c = src.charCodeAt(i);
      if (c === 32 || c === 9 || c === 13) i++;
      else if (c === 47 && src.charCodeAt(i + 1) === 47) {
        i += 2;
        while (i < n && src.charCodeAt(i) !== 10) i++;
      } else break;
    }
    const start = i;
    this.start = start;
    this.tokLine = this.line;
    this.tokCol = i - this.lineStart + 1;
    if (i >= n) {
      this.kind = EOF;
      this.pos = this.end = i;
      return;
    }
    const c = src.charCodeAt(i);
    const cls = c < 128 ? charClass[c]! : 0;
    if (cls & WORD_CHAR) {
      i++;
      while (i < n) {
        const d = src.charCodeAt(i);
        if (d >= 128 || (charClass[d]! & WORD_CHAR) === 0) break;
        i++;
      }
      this.kind = WORD;
    } else if (cls & PUNCT_CHAR) {
      i++;
      this.kind = c;
    } else if (c === 10) {
      this.pos = this.end = i + 1;
      this.line++;
      this.lineStart = i + 1;
      this.kind = NEWLINE;
      return;
    } else if (c === 37 || c === 64) {
      i++;
      while (i < n) {
        const d = src.charCodeAt(i);
        if (d >= 128 || (charClass[d]! & NAME_CHAR) === 0) break;
        i++;
      }
      if (i === start + 1) {
        this.failAt(this.tokLine, this.tokCol, `'${src[start]}' without a name (expected ${c === 37 ? 'a value name such as %0' : 'a parameter name such as @embed'})`);
      }
      this.kind = c === 37 ? VALUE : PARAM;
    } else if (c === 34) {
      this.scanString();
      return;
    } else {
      const cp = src.codePointAt(i)!;
      const shown = cp < 32 || cp === 127 ? `U+${cp.toString(16).toUpperCase().padStart(4, '0')}` : `'${String.fromCodePoint(cp)}'`;
      this.failAt(this.tokLine, this.tokCol, `unexpected character ${shown} (expected a name, a number, a string or one of { } ( ) [ ] , = :)`);
    }
    this.pos = this.end = i;
    this.text = src.slice(start, i);
  }

  private scanString(): void {
    const src = this.src;
    const n = src.length;
    let i = this.start + 1;
    let escaped = false;
    for (;;) {
      const d = i < n ? src.charCodeAt(i) : 10;
      if (d === 10) this.failAt(this.tokLine, this.tokCol, `unterminated string (expected a closing '"' before the end of the line)`);
      if (d === 34) break;
      if (d === 92) {
        escaped = true;
        if (src.charCodeAt(i + 1) !== 10) i++;
      }
      i++;
    }
    i++;
    if (!escaped) {
      this.text = src.slice(this.start + 1, i - 1);
    } else {
      const raw = src.slice(this.start, i);
      try {
        this.text = JSON.parse(raw) as string;
      } catch {
        this.failAt(this.tokLine, this.tokCol, `invalid escape in string ${raw} (expected JSON escapes such as \\" \\\\ \\n \\u0041)`);
      }
    }
    this.kind = STR;
    this.pos = this.end = i;
  }

  // ---- errors ----

  private fail(reason: string): never {
    this.failAt(this.tokLine, this.tokCol, reason);
  }

  private describe(): string {
    if (this.kind === NEWLINE) return 'end of line';
    if (this.kind === EOF) return 'end of input';
    const raw = this.src.slice(this.start, this.end);
    return `'${raw.length > 40 ? `${raw.slice(0, 40)}…` : raw}'`;
  }

  private unexpected(expected: string): never {
    this.fail(`unexpected ${this.describe()} (expected ${expected})`);
  }

  /** Inside a bracketed list opened at line:col, where `expected` was wanted: a missing closer is an unbalanced bracket. */
  private inList(open: number, line: number, col: number, expected: string): never {
    const k = this.kind;
    if (k === NEWLINE || k === EOF || ((k === RPAREN || k === RBRACK || k === RBRACE) && k !== closerOf(open))) {
      this.fail(`unbalanced brackets: '${String.fromCharCode(open)}' at ${line}:${col} is not closed before ${this.describe()} (expected ${expected})`);
    }
    this.unexpected(expected);
  }

  private expect(kind: number, expected: string): void {
    if (this.kind !== kind) this.unexpected(expected);
    this.advance();
  }

  private isWord(w: string): boolean {
    return this.kind === WORD && this.text === w;
  }

  private atLineEnd(): boolean {
    return this.kind === NEWLINE || this.kind === EOF;
  }

  // ---- grammar ----

  private name(what: string): string {
    if (!(this.kind === STR || (this.kind === WORD && isIrName(this.text)))) this.unexpected(what);
    const t = this.text;
    this.advance();
    return t;
  }

  private define(): void {
    const first = this.defined.get(this.text);
    if (first !== undefined) {
      this.fail(`${this.text} is defined twice (expected a new value name; the first definition is at ${Math.floor(first / 2 ** 26)}:${first % 2 ** 26})`);
    }
    this.defined.set(this.text, this.tokLine * 2 ** 26 + this.tokCol);
  }

  /** `[dim, …]`: numbers, symbolic products (`2*batch*seq`) or quoted strings. */
  private dims(): Dim[] {
    const line = this.tokLine;
    const col = this.tokCol;
    this.advance(); // [
    const out: Dim[] = [];
    if (this.kind === RBRACK) {
      this.advance();
      return out;
    }
    for (;;) {
      if (this.kind === WORD) {
        const t = this.text;
        if (isNumberWord(t)) out.push(Number(t));
        else if (isBareDim(t)) out.push(t);
        else this.fail(`invalid dimension '${t}' (expected a number or a symbolic product such as 2*batch*seq)`);
      } else if (this.kind === STR) {
        out.push(this.text);
      } else {
        this.inList(LBRACK, line, col, 'a dimension');
      }
      this.advance();
      if (this.kind === COMMA) this.advance();
      else if (this.kind === RBRACK) break;
      else this.inList(LBRACK, line, col, `',' or ']' after a dimension`);
    }
    this.advance();
    return out;
  }

  private type(): TensorType {
    if (this.kind !== WORD) this.unexpected('a type such as f32[batch, 64]');
    const dtype = this.text;
    if (!dtypeSet.has(dtype)) this.fail(`unknown dtype '${dtype}' (expected ${dtypeList})`);
    this.advance();
    if (this.kind !== LBRACK) this.unexpected(`'[' after the dtype ${dtype}`);
    return { dtype: dtype as DType, shape: this.dims() };
  }

  private attrValue(): Attr {
    if (this.kind === WORD) {
      const t = this.text;
      let v: Attr;
      if (isNumberWord(t)) v = Number(t);
      else if (t === 'true' || t === 'false') v = t === 'true';
      else if (isBareDim(t)) v = t;
      else this.fail(`invalid attribute value '${t}' (expected a number, true, false, a string, a symbolic dim or a [list])`);
      this.advance();
      return v;
    }
    if (this.kind === STR) {
      const t = this.text;
      this.advance();
      return t;
    }
    if (this.kind === LBRACK) return this.dims();
    this.unexpected('an attribute value');
  }

  /** `{key = value, …}`, or nothing. */
  private attrs(): Record<string, Attr> {
    const out: Record<string, Attr> = {};
    if (this.kind !== LBRACE) return out;
    const line = this.tokLine;
    const col = this.tokCol;
    this.advance();
    if (this.kind === RBRACE) {
      this.advance();
      return out;
    }
    for (;;) {
      if (!(this.kind === STR || (this.kind === WORD && isIrName(this.text)))) this.inList(LBRACE, line, col, 'an attribute name');
      const key = this.text;
      if (Object.prototype.hasOwnProperty.call(out, key)) this.fail(`attribute '${key}' is given twice (expected each attribute once)`);
      this.advance();
      if (this.kind !== EQ) this.fail(`missing '=' after the attribute '${key}' (expected '=', found ${this.describe()})`);
      this.advance();
      setKey(out, key, this.attrValue());
      if (this.kind === COMMA) this.advance();
      else if (this.kind === RBRACE) break;
      else this.inList(LBRACE, line, col, `',' or '}' after an attribute`);
    }
    this.advance();
    return out;
  }

  /** `%r, … = op(operands) {attrs} : types loc("…")`; the results may be absent. */
  private node(): Node {
    const outputs: string[] = [];
    if (this.kind === VALUE) {
      for (;;) {
        this.define();
        outputs.push(this.text);
        this.advance();
        if (this.kind !== COMMA) break;
        this.advance();
        if (this.kind !== VALUE) this.unexpected(`a result %name after ','`);
      }
      if (this.kind !== EQ) this.fail(`missing '=' after the results (expected '=' or ',', found ${this.describe()})`);
      this.advance();
    }
    const op = this.name('an op name');
    if (this.kind !== LPAREN) this.unexpected(`'(' after the op name ${op}`);
    const line = this.tokLine;
    const col = this.tokCol;
    this.advance();
    const inputs: string[] = [];
    if (this.kind !== RPAREN) {
      for (;;) {
        if (this.kind !== VALUE && this.kind !== PARAM) this.inList(LPAREN, line, col, 'a %value or @param operand');
        inputs.push(this.text);
        this.advance();
        if (this.kind === COMMA) this.advance();
        else if (this.kind === RPAREN) break;
        else this.inList(LPAREN, line, col, `',' or ')' after an operand`);
      }
    }
    this.advance();
    const node: Node = { op, inputs, outputs, attrs: this.attrs() };
    if (this.kind === COLON) {
      this.advance();
      const types: TensorType[] = [];
      if (this.kind === LPAREN) {
        // `: ()`, an empty type list
        const tl = this.tokLine;
        const tc = this.tokCol;
        this.advance();
        if (this.kind !== RPAREN) this.inList(LPAREN, tl, tc, `')' (an empty type list)`);
        this.advance();
      } else {
        types.push(this.type());
        while (this.kind === COMMA) {
          this.advance();
          types.push(this.type());
        }
      }
      node.types = types;
    }
    if (this.isWord('loc')) {
      this.advance();
      if (this.kind !== LPAREN) this.unexpected(`'(' after loc`);
      const ll = this.tokLine;
      const lc = this.tokCol;
      this.advance();
      if (this.kind !== STR) this.inList(LPAREN, ll, lc, 'a quoted location such as "decoder.0.moe"');
      node.loc = this.text;
      this.advance();
      if (this.kind !== RPAREN) this.inList(LPAREN, ll, lc, `')' after the location`);
      this.advance();
    }
    return node;
  }

  /** A keyword starts an item unless an op of that name is called right after it: `output(%x)`. */
  private isKeyword(w: string): boolean {
    return this.kind === WORD && this.text === w && this.src.charCodeAt(this.end) !== LPAREN;
  }

  private skipNewlines(): void {
    while (this.kind === NEWLINE) this.advance();
  }

  graph(): Graph {
    this.skipNewlines();
    if (!this.isWord('graph')) this.unexpected(`'graph'`);
    this.advance();
    const name = this.name('a graph name');
    if (this.kind !== LBRACE) this.unexpected(`'{' after the graph name`);
    const openLine = this.tokLine;
    const openCol = this.tokCol;
    this.advance();
    const g: Graph = { name, inputs: [], params: [], nodes: [], outputs: [] };
    if (this.kind !== RBRACE && !this.atLineEnd()) this.unexpected(`end of line after '{'`);
    for (;;) {
      this.skipNewlines();
      if (this.kind === RBRACE) break;
      if (this.kind === EOF) {
        this.fail(`unbalanced brackets: '{' at ${openLine}:${openCol} is not closed before end of input (expected an item or '}')`);
      }
      let what: string;
      if (this.kind === VALUE) {
        g.nodes.push(this.node());
        what = 'node';
      } else if (this.isKeyword('input')) {
        this.advance();
        if (this.kind !== VALUE) this.unexpected('an input %name');
        this.define();
        const v = this.text;
        this.advance();
        this.expect(COLON, `':' after ${v}`);
        g.inputs.push({ name: v.slice(1), type: this.type() });
        what = 'input';
      } else if (this.isKeyword('param')) {
        this.advance();
        if (this.kind !== PARAM) this.unexpected('a parameter @name');
        const p = this.text;
        this.advance();
        this.expect(COLON, `':' after ${p}`);
        const type = this.type();
        g.params.push({ name: p.slice(1), type, attrs: this.attrs() });
        what = 'param';
      } else if (this.isKeyword('output')) {
        this.advance();
        const out = this.name('an output name');
        if (this.kind !== EQ) this.fail(`missing '=' after the output name ${out} (expected '=', found ${this.describe()})`);
        this.advance();
        if (this.kind !== VALUE && this.kind !== PARAM) this.unexpected('a %value');
        g.outputs.push({ name: out, value: this.text });
        this.advance();
        what = 'output';
      } else if (this.kind === WORD || this.kind === STR) {
        g.nodes.push(this.node());
        what = 'node';
      } else {
        this.unexpected(`input, param, output, a node or '}'`);
      }
      if (!this.atLineEnd() && this.kind !== RBRACE) this.unexpected(`end of line after the ${what}`);
    }
    this.advance();
    this.skipNewlines();
    if (this.kind !== EOF) this.unexpected('end of input after the graph');
    return g;
  }
}

/** Parses the textual IR; throws IrParseError (`file:line:col: what is wrong (expected …)`) on malformed text. */
export function parseGraph(text: string, file = '<ir>'): Graph {
  return new Parser(text, file).graph();
}
