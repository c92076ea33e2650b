// Writes .moe text: numbers in a form the language reads back exactly, and the checkpoint name map.
export function num(n: number): string {
  if (Number.isInteger(n)) return String(n);
  return String(n);
}

export interface TensorMapping {
  from: string;
  to: string;
  /** For fused checkpoint tensors: take chunk `chunk` of `of` along `axis`. */
  chunk?: { index: number; of: number; axis: number };
}

export function checkpointBlock(format: string, mappings: TensorMapping[], indent = '  '): string {
  const lines = [`${indent}checkpoint: checkpoint {`, `${indent}  format: "${format}"`, `${indent}  tensors: {`];
  const width = Math.max(...mappings.map((m) => m.from.length)) + 3;
  for (const m of mappings) {
    const key = `"${m.from}":`.padEnd(width);
    const value = m.chunk
      ? `{ tensor: "${m.to}", chunk: ${m.chunk.index}, of: ${m.chunk.of}, axis: ${m.chunk.axis} }`
      : `"${m.to}"`;
    lines.push(`${indent}    ${key} ${value}`);
  }
  lines.push(`${indent}  }`, `${indent}}`);
  return lines.join('\n');
}

export function header(modelType: string, source: string, notes: string[] = []): string {
  return [
    `# Imported by \`moec import hf\` from ${source} (model_type: ${modelType}).`,
    ...notes.map((n) => `# ${n}`),
    '',
  ].join('\n');
}
