// The seed corpus of the mutation fuzzer: the examples, each checked under its own path so that imports resolve.
import { readdirSync, readFileSync } from 'node:fs';
import { vocabulary } from './mutate.ts';

export interface Corpus {
  files: string[];
  texts: string[];
  vocab: string[];
}

export function loadCorpus(dir = 'examples'): Corpus {
  const files = readdirSync(dir).filter((f) => f.endsWith('.moe')).sort().map((f) => `${dir}/${f}`);
  const texts = files.map((f) => readFileSync(f, 'utf8'));
  return { files, texts, vocab: vocabulary(texts) };
}
