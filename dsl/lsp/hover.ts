// Hover: what the name, field, kind or import under the cursor is.
import { dirname, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { LAYER_NAME, LAYERS_NAME } from '../../compiler/spec/evaluate.ts';
import type { Span } from '../source.ts';
import type { Analysis } from './analyze.ts';
import { componentHover } from './hover-component.ts';
import { fieldHover } from './hover-field.ts';
import { kindHover } from './hover-kind.ts';
import { valueHover } from './hover-value.ts';
import { kindOfName, type Declaration } from './scope.ts';
import { siteAt } from './sites.ts';

export interface HoverResult {
  markdown: string;
  span: Span;
}

export function hoverAt(a: Analysis, offset: number): HoverResult | undefined {
  const site = siteAt(a.sites, offset);
  if (!site) return undefined;
  const markdown = (() => {
    switch (site.kind) {
      case 'field': return fieldHover(site.key, site.owner);
      case 'kind': return kindHover(site.name);
      case 'import': {
        const target = resolve(dirname(a.path), site.path);
        return `imports \`${target}\`${existsSync(target) ? '' : ' (no such file)'}`;
      }
      case 'declaration':
      case 'reference': {
        if (site.name === LAYER_NAME || site.name === LAYERS_NAME) {
          return `\`${site.name}\`: ${site.name === LAYER_NAME ? 'the index (from 0) of the layer being built' : "the depth of the stack"}; defined inside a stack's block`;
        }
        const decl = site.kind === 'declaration' ? declarationAt(a, site.span) : a.program.effective.get(site.name);
        if (!decl) return undefined;
        const kind = kindOfName(a.program, decl.name);
        return kind ? componentHover(a, decl.name, kind) : valueHover(a, decl);
      }
    }
  })();
  return markdown ? { markdown, span: site.span } : undefined;
}

function declarationAt(a: Analysis, span: Span): Declaration | undefined {
  for (const decls of a.program.declarations.values()) {
    const d = decls.find((x) => x.span.file === span.file && x.span.start === span.start);
    if (d) return d;
  }
  return undefined;
}
