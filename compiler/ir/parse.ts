// Reads the textual graph IR (print.ts) back into a graph. Syntax only: the verifier checks the meaning.
import { dtypes, type Attr, type Dim, type DType, type Graph, type Node, type TensorType } from './types.ts';

export class IrParseError extends Error {
  constructor(readonly file: string, readonly line: number, readonly col: number, message: string) {
    super(`${file}:${line}:${col}: ${message}`);
  }
}

type TokKind = 'ident' | 'value' | 'param' | 'number' | 'string' | 'punct' | 'eof';
interface Tok {
  kind: TokKind;
  text: string;
  line: number;
  col: number;
}

const identChar = /[A-Za-z0-9_.\-]/;

function tokenize(text: string, file: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\n') {
      line++;
      i++;
      lineStart = i;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    const col = i - lineStart + 1;
    const start = i;
    if (c === '%' || c === '@') {
      i++;
      while (i < text.length && identChar.test(text[i]!)) i++;
      if (i === start + 1) throw new IrParseError(file, line, col, `expected a name after '${c}'`);
      toks.push({ kind: c === '%' ? 'value' : 'param', text: text.slice(start, i), line, col });
      continue;
    }
    if (c === '"') {
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\') i++;
        if (text[i] === '\n') throw new IrParseError(file, line, col, 'unterminated string');
        i++;
      }
      if (i >= text.length) throw new IrParseError(file, line, col, 'unterminated string');
      i++;
      toks.push({ kind: 'string', text: text.slice(start, i), line, col });
      continue;
    }
    if (/[0-9]/.test(c) || (c === '-' && /[0-9.i]/.test(text[i + 1] ?? '')) || (c === '.' && /[0-9]/.test(text[i + 1] ?? ''))) {
      i++;
      while (i < text.length && /[0-9.eE+\-a-z]/.test(text[i]!)) {
        if ((text[i] === '+' || text[i] === '-') && !/[eE]/.test(text[i - 1]!)) break;
        i++;
      }
      toks.push({ kind: 'number', text: text.slice(start, i), line, col });
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      while (i < text.length && /[A-Za-z0-9_.]/.test(text[i]!)) i++;
      toks.push({ kind: 'ident', text: text.slice(start, i), line, col });
      continue;
    }
    if ('{}()[],:=*'.includes(c)) {
      i++;
      toks.push({ kind: 'punct', text: c, line, col });
      continue;
    }
    throw new IrParseError(file, line, col, `unexpected character '${c}'`);
  }
  toks.push({ kind: 'eof', text: 'end of file', line, col: i - lineStart + 1 });
  return toks;
}

function parseNumber(t: Tok, file: string): number {
  const special: Record<string, number> = { nan: NaN, inf: Infinity, '-inf': -Infinity, '-0.0': -0 };
  if (t.text in special) return special[t.text]!;
  const n = Number(t.text);
  if (t.text === '' || Number.isNaN(n)) throw new IrParseError(file, t.line, t.col, `'${t.text}' is not a number`);
  return n;
}

class Parser {
  private pos = 0;
  constructor(private readonly toks: Tok[], private readonly file: string) {}

  peek(): Tok {
    return this.toks[this.pos]!;
  }

  next(): Tok {
    return this.toks[this.pos++]!;
  }

  fail(t: Tok, message: string): never {
    throw new IrParseError(this.file, t.line, t.col, message);
  }

  expect(text: string): Tok {
    const t = this.next();
    if (t.text !== text || (t.kind !== 'punct' && t.kind !== 'ident')) this.fail(t, `expected '${text}', found ${t.kind === 'eof' ? 'end of file' : `'${t.text}'`}`);
    return t;
  }

  kind(kind: TokKind, what: string): Tok {
    const t = this.next();
    if (t.kind !== kind) this.fail(t, `expected ${what}, found ${t.kind === 'eof' ? 'end of file' : `'${t.text}'`}`);
    return t;
  }

  dim(): Dim {
    const first = this.next();
    if (first.kind !== 'number' && first.kind !== 'ident') this.fail(first, `expected a dimension, found '${first.text}'`);
    const parts = [first.text];
    while (this.peek().text === '*') {
      this.next();
      const t = this.next();
      if (t.kind !== 'number' && t.kind !== 'ident') this.fail(t, `expected a dimension after '*', found '${t.text}'`);
      parts.push(t.text);
    }
    if (parts.length === 1 && first.kind === 'number') return parseNumber(first, this.file);
    return parts.join('*');
  }

  type(): TensorType {
    const d = this.kind('ident', 'a dtype');
    if (!(dtypes as readonly string[]).includes(d.text)) this.fail(d, `unknown dtype '${d.text}' (expected one of ${dtypes.join(', ')})`);
    this.expect('[');
    const shape: Dim[] = [];
    if (this.peek().text !== ']') {
      shape.push(this.dim());
      while (this.peek().text === ',') {
        this.next();
        shape.push(this.dim());
      }
    }
    this.expect(']');
    return { dtype: d.text as DType, shape };
  }

  attrValue(): Attr {
    const t = this.peek();
    if (t.kind === 'number' || (t.kind === 'ident' && (t.text === 'nan' || t.text === 'inf'))) return parseNumber(this.next(), this.file);
    if (t.kind === 'string') return JSON.parse(this.next().text) as string;
    if (t.kind === 'ident' && (t.text === 'true' || t.text === 'false')) return this.next().text === 'true';
    if (t.text === '[') {
      this.next();
      const items: Dim[] = [];
      if (this.peek().text !== ']') {
        items.push(this.dim());
        while (this.peek().text === ',') {
          this.next();
          items.push(this.dim());
        }
      }
      this.expect(']');
      return items;
    }
    // A bare symbolic dimension (q_len = seq, n = 2*batch*seq) reads as the string it names.
    if (t.kind === 'ident') return String(this.dim());
    return this.fail(t, `expected an attribute value, found '${t.text}'`);
  }

  attrs(): Record<string, Attr> {
    const out: Record<string, Attr> = {};
    if (this.peek().text !== '{') return out;
    this.next();
    while (this.peek().text !== '}') {
      const k = this.kind('ident', 'an attribute name');
      if (k.text in out) this.fail(k, `attribute '${k.text}' is given twice`);
      this.expect('=');
      out[k.text] = this.attrValue();
      if (this.peek().text === ',') this.next();
      else if (this.peek().text !== '}') this.fail(this.peek(), `expected ',' or '}', found '${this.peek().text}'`);
    }
    this.next();
    return out;
  }

  graph(): Graph {
    this.expect('graph');
    const name = this.kind('ident', 'the graph name').text;
    this.expect('{');
    const g: Graph = { name, inputs: [], params: [], nodes: [], outputs: [] };
    const defined = new Set<string>();
    const define = (t: Tok) => {
      if (defined.has(t.text)) this.fail(t, `${t.text} is defined twice`);
      defined.add(t.text);
    };
    for (;;) {
      const t = this.peek();
      if (t.text === '}') {
        this.next();
        break;
      }
      if (t.kind === 'ident' && t.text === 'input') {
        this.next();
        const v = this.kind('value', 'an input %name');
        define(v);
        this.expect(':');
        g.inputs.push({ name: v.text.slice(1), type: this.type() });
      } else if (t.kind === 'ident' && t.text === 'param') {
        this.next();
        const p = this.kind('param', 'a parameter @name');
        define(p);
        this.expect(':');
        const type = this.type();
        g.params.push({ name: p.text.slice(1), type, attrs: this.attrs() });
      } else if (t.kind === 'ident' && t.text === 'output') {
        this.next();
        const n = this.next();
        if (n.kind !== 'ident' && n.kind !== 'number') this.fail(n, `expected an output name, found '${n.text}'`);
        this.expect('=');
        g.outputs.push({ name: n.text, value: this.kind('value', 'a %value').text });
      } else if (t.kind === 'value') {
        g.nodes.push(this.node(define));
      } else {
        this.fail(t, `expected input, param, output, a node or '}', found ${t.kind === 'eof' ? 'end of file' : `'${t.text}'`}`);
      }
    }
    const end = this.peek();
    if (end.kind !== 'eof') this.fail(end, `unexpected '${end.text}' after the graph`);
    return g;
  }

  node(define: (t: Tok) => void): Node {
    const outputs: string[] = [];
    for (;;) {
      const v = this.kind('value', 'a result %name');
      define(v);
      outputs.push(v.text);
      if (this.peek().text !== ',') break;
      this.next();
    }
    this.expect('=');
    const op = this.kind('ident', 'an op name').text;
    this.expect('(');
    const inputs: string[] = [];
    while (this.peek().text !== ')') {
      const r = this.next();
      if (r.kind !== 'value' && r.kind !== 'param') this.fail(r, `expected a %value or @param operand, found '${r.text}'`);
      inputs.push(r.text);
      if (this.peek().text === ',') this.next();
      else if (this.peek().text !== ')') this.fail(this.peek(), `expected ',' or ')', found '${this.peek().text}'`);
    }
    this.next();
    const node: Node = { op, inputs, outputs, attrs: this.attrs() };
    if (this.peek().text === ':') {
      this.next();
      const types = [this.type()];
      while (this.peek().text === ',') {
        this.next();
        types.push(this.type());
      }
      node.types = types;
    }
    if (this.peek().kind === 'ident' && this.peek().text === 'loc') {
      this.next();
      this.expect('(');
      node.loc = JSON.parse(this.kind('string', 'a quoted location').text) as string;
      this.expect(')');
    }
    return node;
  }
}

export function parseGraph(text: string, file = '<ir>'): Graph {
  return new Parser(tokenize(text, file), file).graph();
}
