// The block a node belongs to, read off its loc: `decoder.3.moe.router` is in layer `decoder.3`, block
// `decoder.3.moe`; `embed`, `head` and `decoder.final_norm` are blocks of their own. Pictures cluster by it, and
// `moec summary` has one row per block.

/** The clusters a loc sits in, outermost first: [layer, block] inside a numbered layer, else [block]. */
export function blockPath(loc: string | undefined): string[] {
  if (!loc) return [];
  const parts = loc.split('.');
  if (parts.length >= 2 && /^\d+$/.test(parts[1]!)) {
    const layer = `${parts[0]}.${parts[1]}`;
    return parts.length === 2 ? [layer] : [layer, `${layer}.${parts[2]}`];
  }
  return [parts.length === 1 ? loc : `${parts[0]}.${parts[1]}`];
}

/** The innermost block of a loc (`decoder.3.moe.router` → `decoder.3.moe`), or undefined without one. */
export function blockOf(loc: string | undefined): string | undefined {
  const path = blockPath(loc);
  return path[path.length - 1];
}

/** The numbered layer of a loc: `decoder.3.moe` → { stack: 'decoder', index: 3 }. */
export function layerOf(loc: string | undefined): { stack: string; index: number } | undefined {
  const m = loc ? /^([^.]+)\.(\d+)(\.|$)/.exec(loc) : null;
  return m ? { stack: m[1]!, index: Number(m[2]) } : undefined;
}
