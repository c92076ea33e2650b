// A source file and positions in it. Every diagnostic points into one of these.

export interface SourceFile {
  readonly path: string;
  readonly text: string;
}

/** A half-open character range [start, end) in a file, with the 1-based line and column of its start. */
export interface Span {
  readonly file: string;
  readonly start: number;
  readonly end: number;
  readonly line: number;
  readonly col: number;
}

export function lineOf(text: string, lineNumber: number): string {
  const lines = text.split(/\r?\n/);
  return lines[lineNumber - 1] ?? '';
}

export function spanAt(file: string, text: string, start: number, end: number): Span {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < start && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { file, start, end: Math.max(end, start + 1), line, col: start - lineStart + 1 };
}
