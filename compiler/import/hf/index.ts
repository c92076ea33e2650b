// `moec import hf`: a Hugging Face config.json to an equivalent .moe spec, for the supported model types.
import { basename, dirname, resolve } from 'node:path';
import { statSync } from 'node:fs';
import { HfConfig, ImportError } from './config.ts';
import { importDeepseekV3 } from './deepseek-v3.ts';
import { importGranitemoe } from './granitemoe.ts';
import type { ImportMeta } from './meta.ts';
import { importMixtral } from './mixtral.ts';
import { importOlmoe } from './olmoe.ts';
import { importQwen2Moe } from './qwen2-moe.ts';
import { importSwitch } from './switch.ts';

export { ImportError } from './config.ts';

const importers: Record<string, (c: HfConfig, meta: ImportMeta) => string> = {
  switch_transformers: importSwitch,
  mixtral: importMixtral,
  qwen2_moe: importQwen2Moe,
  olmoe: importOlmoe,
  deepseek_v3: importDeepseekV3,
  granitemoe: importGranitemoe,
};

export const supportedModelTypes = Object.keys(importers);

/** A name the language accepts, from the model folder's name (or the model type). */
function modelName(dir: string, modelType: string): string {
  const folder = basename(resolve(dir));
  const n = folder.replace(/[^A-Za-z0-9_]/g, '_').replace(/^(\d)/, '_$1');
  return /^[A-Za-z_]/.test(n) && n !== 'config_json' ? n : modelType;
}

export function importHf(path: string): { text: string; modelType: string } {
  const config = HfConfig.read(path);
  const modelType = config.string('model_type');
  const importer = importers[modelType];
  if (!importer) {
    throw new ImportError(`${config.path}: model_type '${modelType}' is not supported; moec import hf supports: ${supportedModelTypes.join(', ')}`);
  }
  const dir = statSync(path).isDirectory() ? path : dirname(path);
  const text = importer(config, { name: modelName(dir, modelType), source: `${basename(resolve(dir))}/config.json`, notes: [] });
  return { text, modelType };
}
