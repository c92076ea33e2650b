// Syntax highlighting for the playground's editor from the TextMate grammar (dsl/editor/moe.tmLanguage.json): its
// rules are single-line matches, so a line is tokenized by taking, at each position, the earliest match of any rule
// (the first rule wins a tie), as TextMate does. Scopes become CSS classes by their first component (keyword,
// comment, string, constant, entity, storage, variable, …).
import grammar from '../../dsl/editor/moe.tmLanguage.json' with { type: 'json' };

interface Rule { match?: string; name?: string; captures?: Record<string, { name: string }>; include?: string; patterns?: Rule[] }
interface Compiled { re: RegExp; name?: string; captures?: Record<string, { name: string }> }

const repo = (grammar as { repository: Record<string, Rule> }).repository;
function flatten(rules: Rule[]): Rule[] {
  return rules.flatMap((r) => (r.include ? flatten([repo[r.include.slice(1)]!]) : r.patterns ? flatten(r.patterns) : [r]));
}
const rules: Compiled[] = flatten((grammar as { patterns: Rule[] }).patterns).filter((r) => r.match).map((r) => ({ re: new RegExp(r.match!, 'gd'), name: r.name, captures: r.captures }));

const escape = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
const cls = (scope: string) => `tm-${scope.split('.')[0]}`;

export function highlightLine(line: string): string {
  let out = '';
  let at = 0;
  while (at < line.length) {
    let best: { m: RegExpExecArray; rule: Compiled } | undefined;
    for (const rule of rules) {
      rule.re.lastIndex = at;
      const m = rule.re.exec(line);
      if (m && m[0].length > 0 && (!best || m.index < best.m.index)) best = { m, rule };
    }
    if (!best) break;
    const { m, rule } = best;
    out += escape(line.slice(at, m.index));
    if (rule.captures) {
      // Captured groups get their scopes; the text between them stays plain.
      let pos = m.index;
      const groups = Object.keys(rule.captures).map(Number).filter((g) => m.indices?.[g]).sort((a, b) => m.indices![a]![0] - m.indices![b]![0]);
      for (const g of groups) {
        const [s, e] = m.indices![g]!;
        if (s < pos) continue;
        out += `${escape(line.slice(pos, s))}<span class="${cls(rule.captures[g]!.name)}">${escape(line.slice(s, e))}</span>`;
        pos = e;
      }
      out += escape(line.slice(pos, m.index + m[0].length));
    } else out += `<span class="${cls(rule.name ?? 'plain')}">${escape(m[0])}</span>`;
    at = m.index + m[0].length;
  }
  return out + escape(line.slice(at));
}
