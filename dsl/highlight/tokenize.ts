// A tokenizer for TextMate grammars made only of single-line `match` rules (as dsl/editor/moe.tmLanguage.json is).
// It follows the TextMate rule: at each position the rule whose match starts first wins, ties going to the rule listed
// first. Regexes run as JavaScript RegExps, so the grammar must keep to syntax both Oniguruma and JavaScript read alike.
// No dependencies: the grammar tests and a browser page can both use it.

export interface GrammarRule {
  match?: string;
  name?: string;
  captures?: Record<string, { name?: string }>;
  include?: string;
  patterns?: GrammarRule[];
  comment?: string;
}

export interface Grammar {
  scopeName: string;
  patterns: GrammarRule[];
  repository?: Record<string, GrammarRule>;
}

export interface Token {
  start: number;
  end: number;
  text: string;
  /** Outermost first: the grammar's scopeName, then the rule's name, then the capture's name. */
  scopes: string[];
}

interface Compiled {
  regex: RegExp;
  rule: GrammarRule;
}

const compiledCache = new WeakMap<Grammar, Compiled[]>();

/** The grammar's top-level match rules in order, `#name` includes expanded. Throws on begin/end rules or unknown includes. */
export function matchRules(grammar: Grammar): GrammarRule[] {
  const out: GrammarRule[] = [];
  const visit = (rule: GrammarRule, depth: number): void => {
    if (depth > 16) throw new Error('grammar includes nest too deeply');
    if (rule.include !== undefined) {
      const target = rule.include.startsWith('#') ? grammar.repository?.[rule.include.slice(1)] : undefined;
      if (!target) throw new Error(`unknown include '${rule.include}'`);
      visit(target, depth + 1);
      return;
    }
    if (rule.match !== undefined) out.push(rule);
    else if (rule.patterns) rule.patterns.forEach((r) => visit(r, depth + 1));
    else throw new Error(`a rule with neither match nor patterns: ${JSON.stringify(rule)}`);
  };
  grammar.patterns.forEach((r) => visit(r, 0));
  return out;
}

function compiled(grammar: Grammar): Compiled[] {
  let c = compiledCache.get(grammar);
  if (!c) {
    c = matchRules(grammar).map((rule) => ({ rule, regex: new RegExp(rule.match!, 'gd') }));
    compiledCache.set(grammar, c);
  }
  return c;
}

/** Splits one line into tokens; text no rule matches becomes tokens with only the grammar's scope. */
export function tokenizeLine(grammar: Grammar, line: string): Token[] {
  const tokens: Token[] = [];
  const base = [grammar.scopeName];
  const push = (start: number, end: number, scopes: string[]) => {
    if (end > start) tokens.push({ start, end, text: line.slice(start, end), scopes });
  };
  const rules = compiled(grammar);
  let pos = 0;
  while (pos < line.length) {
    let best: { m: RegExpExecArray; rule: GrammarRule } | undefined;
    for (const { regex, rule } of rules) {
      regex.lastIndex = pos;
      const m = regex.exec(line);
      if (!m || m[0].length === 0) continue;
      if (!best || m.index < best.m.index) best = { m, rule };
    }
    if (!best) {
      push(pos, line.length, base);
      break;
    }
    const { m, rule } = best;
    const start = m.index;
    const end = start + m[0].length;
    push(pos, start, base);
    const outer = rule.name ? [...base, rule.name] : base;
    let at = start;
    for (const [group, range] of captureRanges(m, rule)) {
      if (range[0] < at) continue;
      push(at, range[0], outer);
      push(range[0], range[1], [...outer, rule.captures![group]!.name!]);
      at = range[1];
    }
    push(at, end, outer);
    pos = end;
  }
  return tokens;
}

function captureRanges(m: RegExpExecArray, rule: GrammarRule): [string, [number, number]][] {
  if (!rule.captures || !m.indices) return [];
  const out: [string, [number, number]][] = [];
  for (const [group, c] of Object.entries(rule.captures)) {
    const range = m.indices[Number(group)];
    if (c.name && range && range[1] > range[0]) out.push([group, range]);
  }
  return out.sort((a, b) => a[1][0] - b[1][0]);
}

/** Every line of a text, tokenized; token offsets are within their line. */
export function tokenize(grammar: Grammar, text: string): Token[][] {
  return text.split(/\r?\n/).map((line) => tokenizeLine(grammar, line));
}
