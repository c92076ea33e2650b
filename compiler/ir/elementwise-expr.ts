// The expression of a fused elementwise op (`elementwise(xs…) {expr = "add($0, scale($1, 0.5))"}`): elementwise ops
// of the op set applied to the operands $0 … $n. Plain text in the attribute, so the IR still prints and parses;
// parsed here into a tree that the reference executor and the kernel lowering both walk.

export type EwExpr = { input: number } | { op: string; args: EwExpr[]; factor?: number };

export const ewUnary = ['relu', 'gelu', 'gelu_tanh', 'silu', 'sigmoid', 'tanh', 'exp', 'log', 'neg', 'sqrt', 'rsqrt', 'square'];
export const ewBinary = ['add', 'sub', 'mul', 'div', 'maximum'];
/** Ops a chain may contain: the unary and binary functions, and scale (its factor is the second argument). */
export const ewOps = [...ewUnary, ...ewBinary, 'scale'];

export class EwSyntaxError extends Error {}

export function parseEw(text: string): EwExpr {
  let at = 0;
  const skip = () => {
    while (text[at] === ' ') at++;
  };
  const fail = (what: string): never => {
    throw new EwSyntaxError(`expr "${text}": ${what} at column ${at + 1}`);
  };
  const expect = (c: string) => {
    skip();
    if (text[at] !== c) fail(`expected '${c}'`);
    at++;
  };
  const node = (): EwExpr => {
    skip();
    if (text[at] === '$') {
      const m = /^\$(\d+)/.exec(text.slice(at)) ?? fail('expected an operand $n');
      at += m[0].length;
      return { input: Number(m[1]) };
    }
    const m = /^[a-z_]+/.exec(text.slice(at)) ?? fail('expected an op or $n');
    const op = m[0];
    if (!ewOps.includes(op)) fail(`'${op}' is not an elementwise op`);
    at += op.length;
    expect('(');
    const args = [node()];
    if (op === 'scale') {
      expect(',');
      skip();
      const n = /^-?\d+(\.\d+)?(e[-+]?\d+)?/i.exec(text.slice(at)) ?? fail('expected the scale factor');
      at += n[0].length;
      expect(')');
      return { op, args, factor: Number(n[0]) };
    }
    if (ewBinary.includes(op)) {
      expect(',');
      args.push(node());
    }
    expect(')');
    return { op, args };
  };
  const e = node();
  skip();
  if (at !== text.length) fail('unexpected text');
  return e;
}

export function printEw(e: EwExpr): string {
  if ('input' in e) return `$${e.input}`;
  const args = e.args.map(printEw);
  if (e.op === 'scale') args.push(String(e.factor));
  return `${e.op}(${args.join(', ')})`;
}

/** The expression with operand i replaced by `sub` and the other operands renumbered by `renumber`. */
export function substitute(e: EwExpr, i: number, sub: EwExpr, renumber: (j: number) => number): EwExpr {
  if ('input' in e) return e.input === i ? sub : { input: renumber(e.input) };
  return { ...e, args: e.args.map((a) => substitute(a, i, sub, renumber)) };
}

export function mapInputs(e: EwExpr, f: (j: number) => number): EwExpr {
  if ('input' in e) return { input: f(e.input) };
  return { ...e, args: e.args.map((a) => mapInputs(a, f)) };
}

/** Operations in the expression (for FLOP counts). */
export function ewOpCount(e: EwExpr): number {
  return 'input' in e ? 0 : 1 + e.args.reduce((s, a) => s + ewOpCount(a), 0);
}
