// LSP positions (0-based line, UTF-16 character) and offsets into a text (JavaScript strings count UTF-16 units too).
import type { Span } from '../source.ts';

export interface Position {
  line: number;
  character: number;
}

export interface Range {
  start: Position;
  end: Position;
}

export function offsetAt(text: string, pos: Position): number {
  let offset = 0;
  for (let line = 0; line < pos.line; line++) {
    const next = text.indexOf('\n', offset);
    if (next < 0) return text.length;
    offset = next + 1;
  }
  const lineEnd = text.indexOf('\n', offset);
  const end = lineEnd < 0 ? text.length : lineEnd;
  return Math.min(offset + Math.max(0, pos.character), end);
}

export function positionAt(text: string, offset: number): Position {
  const clamped = Math.max(0, Math.min(offset, text.length));
  let line = 0;
  let lineStart = 0;
  for (let i = 0; i < clamped; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, character: clamped - lineStart };
}

/** A span of `text` as an LSP range; an empty span covers one character where there is one. */
export function spanToRange(span: Pick<Span, 'start' | 'end'>, text: string): Range {
  const end = span.end > span.start ? span.end : Math.min(span.start + 1, text.length);
  return { start: positionAt(text, span.start), end: positionAt(text, Math.max(end, span.start)) };
}
