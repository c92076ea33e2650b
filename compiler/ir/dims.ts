// Symbolic dimensions: products of an integer and named sizes (batch, seq, dec_seq), kept in a canonical form.
import type { Dim } from './types.ts';

interface Product {
  coef: number;
  symbols: string[];
}

function toProduct(d: Dim): Product {
  if (typeof d === 'number') return { coef: d, symbols: [] };
  let coef = 1;
  const symbols: string[] = [];
  for (const part of d.split('*').map((p) => p.trim())) {
    if (/^\d+$/.test(part)) coef *= Number(part);
    else symbols.push(part);
  }
  symbols.sort();
  return { coef, symbols };
}

function fromProduct(p: Product): Dim {
  if (p.symbols.length === 0) return p.coef;
  if (p.coef === 0) return 0;
  return [...(p.coef === 1 ? [] : [String(p.coef)]), ...p.symbols].join('*');
}

export function normDim(d: Dim): Dim {
  return fromProduct(toProduct(d));
}

export function mulDims(...ds: Dim[]): Dim {
  let coef = 1;
  const symbols: string[] = [];
  for (const d of ds) {
    const p = toProduct(d);
    coef *= p.coef;
    symbols.push(...p.symbols);
  }
  symbols.sort();
  return fromProduct({ coef, symbols });
}

/** a / b when it divides exactly, else undefined. */
export function divDim(a: Dim, b: Dim): Dim | undefined {
  const pa = toProduct(a);
  const pb = toProduct(b);
  if (pa.coef % pb.coef !== 0) return undefined;
  const symbols = [...pa.symbols];
  for (const s of pb.symbols) {
    const i = symbols.indexOf(s);
    if (i < 0) return undefined;
    symbols.splice(i, 1);
  }
  return fromProduct({ coef: pa.coef / pb.coef, symbols });
}

export function dimsEqual(a: Dim, b: Dim): boolean {
  return normDim(a) === normDim(b);
}

export function isValidDim(d: Dim): boolean {
  if (typeof d === 'number') return Number.isInteger(d) && d >= 0;
  return d.split('*').every((p) => /^\d+$/.test(p.trim()) || /^[A-Za-z_][A-Za-z0-9_]*$/.test(p.trim()));
}

/** The value of a dimension once the symbols are known. */
export function evalDim(d: Dim, sizes: Readonly<Record<string, number>>): number {
  const p = toProduct(d);
  let v = p.coef;
  for (const s of p.symbols) {
    const n = sizes[s];
    if (n === undefined) throw new Error(`no size given for the dimension '${s}'`);
    v *= n;
  }
  return v;
}

export function numel(shape: readonly Dim[]): Dim {
  return mulDims(1, ...shape);
}

/** a + b when both are multiples of the same symbols (2*batch*seq + batch*seq = 3*batch*seq), else undefined. */
export function addDims(a: Dim, b: Dim): Dim | undefined {
  const pa = toProduct(a);
  const pb = toProduct(b);
  if (pa.symbols.join('*') !== pb.symbols.join('*')) return undefined;
  return fromProduct({ coef: pa.coef + pb.coef, symbols: pa.symbols });
}
