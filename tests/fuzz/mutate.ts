// Mutations of .moe text, for fuzzing the front end: token-level edits through the language's own lexer (delete,
// duplicate, swap, or replace a token by another of the vocabulary) and byte-level edits of the UTF-8 encoding
// (insert, delete or replace a byte, insert a code point — non-ASCII, control, lone surrogate — or truncate).
import fc from 'fast-check';
import { moeLexer } from '../../dsl/lexer.ts';

export interface TokenSpan {
  start: number;
  end: number;
  image: string;
}

export type TokenMutation =
  | { op: 'delete'; at: number }
  | { op: 'duplicate'; at: number }
  | { op: 'swap'; at: number; with: number }
  | { op: 'replace'; at: number; by: string };

export type ByteMutation =
  | { op: 'insert-byte'; at: number; byte: number }
  | { op: 'delete-byte'; at: number }
  | { op: 'replace-byte'; at: number; byte: number }
  | { op: 'insert-char'; at: number; char: string }
  | { op: 'truncate'; at: number };

export type Mutation = TokenMutation | ByteMutation;

/** The tokens of a text as the lexer sees them (whitespace and comments skipped, unlexable characters left out). */
export function tokenSpans(text: string): TokenSpan[] {
  return moeLexer.tokenize(text).tokens.map((t) => ({ start: t.startOffset, end: t.startOffset + t.image.length, image: t.image }));
}

/** Token images beyond those of the examples: every keyword and operator, and numbers and strings at the edges. */
export const extraImages: readonly string[] = [
  'import', 'let', 'param', 'extends', 'if', 'else', 'and', 'or', 'not', 'true', 'false', 'none',
  '**', '//', '*', '/', '+', '-', '%', '==', '!=', '<=', '>=', '<', '>', '=', ':', ',', '{', '}', '[', ']', '(', ')',
  '0', '1', '-1', '0.5', '.5', '1_000', '1e-5', '1e309', '1e-400', '9007199254740993', '4096', '4097', '123456789012',
  '""', '"x"', '"switch-transformer.moe"', '"missing.moe"', '"\\u0000"',
  'layer', 'layers', 'model', 'stack', 'block', 'moe', 'ffn', 'attention', 'mla', 'fourier', 'softmax', 'sigmoid',
  'expert_choice', 'hash', 'soft', 'vocab', 'checkpoint', 'ceil', 'min', 'max', 'sqrt', 'log2', 'swiglu',
];

/** The vocabulary replacements draw from: every distinct token image of the corpus, and the extras. */
export function vocabulary(corpus: readonly string[]): string[] {
  const images = new Set<string>(extraImages);
  for (const text of corpus) for (const t of tokenSpans(text)) images.add(t.image);
  return [...images].sort();
}

/** Replaces [start, end) of text with insert (which may fuse with a neighbour: that is a mutation too). */
function splice(text: string, start: number, end: number, insert: string): string {
  return text.slice(0, start) + insert + text.slice(end);
}

export function applyTokenMutation(text: string, m: TokenMutation): string {
  const tokens = tokenSpans(text);
  if (tokens.length === 0) return text;
  const t = tokens[m.at % tokens.length]!;
  switch (m.op) {
    case 'delete': return splice(text, t.start, t.end, '');
    case 'duplicate': return splice(text, t.end, t.end, ` ${t.image}`);
    case 'replace': return splice(text, t.start, t.end, m.by);
    case 'swap': {
      const u = tokens[m.with % tokens.length]!;
      const [a, b] = t.start <= u.start ? [t, u] : [u, t];
      if (a.start === b.start) return text;
      return text.slice(0, a.start) + b.image + text.slice(a.end, b.start) + a.image + text.slice(b.end);
    }
  }
}

/** Byte edits act on the UTF-8 encoding and decode it back as readFileSync(…, 'utf8') would (bad sequences → U+FFFD). */
export function applyByteMutation(text: string, m: ByteMutation): string {
  const bytes = Buffer.from(text, 'utf8');
  const at = bytes.length === 0 ? 0 : m.at % (bytes.length + 1);
  const edit = (b: Buffer) => b.toString('utf8');
  switch (m.op) {
    case 'insert-byte': return edit(Buffer.concat([bytes.subarray(0, at), Buffer.from([m.byte]), bytes.subarray(at)]));
    case 'delete-byte': return edit(Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1)]));
    case 'replace-byte': return edit(Buffer.concat([bytes.subarray(0, at), Buffer.from([m.byte]), bytes.subarray(at + 1)]));
    case 'truncate': return edit(bytes.subarray(0, at));
    case 'insert-char': {
      // A code point goes in between UTF-16 units, so a lone surrogate stays lone.
      const i = text.length === 0 ? 0 : m.at % (text.length + 1);
      return text.slice(0, i) + m.char + text.slice(i);
    }
  }
}

export function applyMutation(text: string, m: Mutation): string {
  return m.op === 'delete' || m.op === 'duplicate' || m.op === 'swap' || m.op === 'replace' ? applyTokenMutation(text, m) : applyByteMutation(text, m);
}

/** Characters a lexer is least ready for: controls, NUL, BOM, line separators, lone surrogates, wide characters. */
const oddChars = ['\0', '\u0007', '\b', '\t', '\r', '\n', '\u000b', '\f', '\u001b', '\u007f', '\u0085', '\u00a0', '\u00e9', '\u2028', '\u2029', '\ufeff', '\ufffd', '\ud800', '\udfff', '😀', 'λ', '"', '\\', '#', '{', '}', '_', '.', 'e'];

const position = fc.nat({ max: 1 << 20 });

export const tokenMutationArb = (vocab: readonly string[]): fc.Arbitrary<TokenMutation> =>
  fc.oneof(
    fc.record({ op: fc.constant('delete' as const), at: position }),
    fc.record({ op: fc.constant('duplicate' as const), at: position }),
    fc.record({ op: fc.constant('swap' as const), at: position, with: position }),
    fc.record({ op: fc.constant('replace' as const), at: position, by: fc.constantFrom(...vocab) }),
  );

export const byteMutationArb: fc.Arbitrary<ByteMutation> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('insert-byte' as const), at: position, byte: fc.integer({ min: 0, max: 255 }) }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant('delete-byte' as const), at: position }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant('replace-byte' as const), at: position, byte: fc.integer({ min: 0, max: 255 }) }), weight: 3 },
  {
    arbitrary: fc.record({
      op: fc.constant('insert-char' as const), at: position,
      char: fc.oneof(fc.constantFrom(...oddChars), fc.integer({ min: 0, max: 0x10ffff }).map((c) => String.fromCodePoint(c))),
    }),
    weight: 3,
  },
  // Truncation throws most of a file away: rarer than the other edits, so that most inputs stay long.
  { arbitrary: fc.record({ op: fc.constant('truncate' as const), at: position }), weight: 1 },
);

export interface MutatedInput {
  /** Index of the seed text in the corpus. */
  seed: number;
  mutations: Mutation[];
}

/** A seed text of the corpus and one to four edits of it, token-level and byte-level mixed. */
export const mutatedInputArb = (corpusSize: number, vocab: readonly string[]): fc.Arbitrary<MutatedInput> =>
  fc.record({
    seed: fc.nat({ max: corpusSize - 1 }),
    mutations: fc.array(fc.oneof(tokenMutationArb(vocab), byteMutationArb), { minLength: 1, maxLength: 4 }),
  });

export function mutatedText(corpus: readonly string[], input: MutatedInput): string {
  return input.mutations.reduce(applyMutation, corpus[input.seed]!);
}
