/**
 * JSON.parse silently keeps the last of two equal keys, so a header naming a
 * tensor twice would lose one without a trace. This scans the raw text (already
 * known to be valid JSON) and reports the first repeated key in any object.
 */
export interface DuplicateKey {
  /** Keys of the enclosing objects, outermost first; empty for the top level. */
  path: string[];
  key: string;
}

interface Frame {
  isObject: boolean;
  keys: Set<string>;
  path: string[];
  lastKey: string | undefined;
}

export function findDuplicateKey(jsonText: string): DuplicateKey | undefined {
  const stack: Frame[] = [];
  let i = 0;
  while (i < jsonText.length) {
    const ch = jsonText[i];
    if (ch === '"') {
      let end = i + 1;
      while (jsonText[end] !== '"') end += jsonText[end] === '\\' ? 2 : 1;
      const top = stack[stack.length - 1];
      let next = end + 1;
      while (/\s/.test(jsonText[next] ?? '')) next++;
      if (top !== undefined && top.isObject && jsonText[next] === ':') {
        const key = JSON.parse(jsonText.slice(i, end + 1)) as string;
        if (top.keys.has(key)) return { path: top.path, key };
        top.keys.add(key);
        top.lastKey = key;
      }
      i = end + 1;
      continue;
    }
    if (ch === '{' || ch === '[') {
      const parent = stack[stack.length - 1];
      const path =
        parent === undefined ? [] : parent.isObject && parent.lastKey !== undefined ? [...parent.path, parent.lastKey] : parent.path;
      stack.push({ isObject: ch === '{', keys: new Set(), path, lastKey: undefined });
    } else if (ch === '}' || ch === ']') {
      stack.pop();
    }
    i++;
  }
  return undefined;
}
