// Typed reads of a Hugging Face config.json, each error naming the file and the field.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export class ImportError extends Error {}

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export class HfConfig {
  constructor(readonly path: string, readonly raw: Record<string, Json>) {}

  static read(dir: string): HfConfig {
    const path = existsSync(dir) && statSync(dir).isDirectory() ? join(dir, 'config.json') : dir;
    if (!existsSync(path)) throw new ImportError(`${path}: no such file (moec import hf reads a model folder's config.json)`);
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(path, 'utf8'));
    } catch (e) {
      throw new ImportError(`${path}: not valid JSON (${(e as Error).message})`);
    }
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ImportError(`${path}: expected a JSON object`);
    return new HfConfig(path, raw as Record<string, Json>);
  }

  private fail(field: string, what: string): never {
    throw new ImportError(`${this.path}: field '${field}' ${what}`);
  }

  has(field: string): boolean {
    return this.raw[field] !== undefined && this.raw[field] !== null;
  }

  int(field: string, fallback?: number): number {
    const v = this.raw[field];
    if (v === undefined || v === null) {
      if (fallback === undefined) this.fail(field, 'is missing');
      return fallback;
    }
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) this.fail(field, `must be a non-negative integer, found ${JSON.stringify(v)}`);
    return v;
  }

  number(field: string, fallback?: number): number {
    const v = this.raw[field];
    if (v === undefined || v === null) {
      if (fallback === undefined) this.fail(field, 'is missing');
      return fallback;
    }
    if (typeof v !== 'number') this.fail(field, `must be a number, found ${JSON.stringify(v)}`);
    return v;
  }

  bool(field: string, fallback: boolean): boolean {
    const v = this.raw[field];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') this.fail(field, `must be true or false, found ${JSON.stringify(v)}`);
    return v;
  }

  string(field: string, fallback?: string): string {
    const v = this.raw[field];
    if (v === undefined || v === null) {
      if (fallback === undefined) this.fail(field, 'is missing');
      return fallback;
    }
    if (typeof v !== 'string') this.fail(field, `must be a string, found ${JSON.stringify(v)}`);
    return v;
  }

  ints(field: string): number[] {
    const v = this.raw[field];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'number' && Number.isInteger(x))) this.fail(field, 'must be a list of integers');
    return v as number[];
  }

  /** RoPE base: transformers 5 nests it in rope_parameters; older configs have rope_theta at the top level. */
  ropeTheta(fallback = 10000): number {
    const rp = this.raw.rope_parameters;
    if (rp && typeof rp === 'object' && !Array.isArray(rp)) {
      const type = rp.rope_type ?? rp.type;
      if (type !== undefined && type !== 'default') {
        throw new ImportError(`${this.path}: rope_parameters.rope_type '${String(type)}' is not supported yet (only 'default')`);
      }
      if (typeof rp.rope_theta === 'number') return rp.rope_theta;
    }
    const rs = this.raw.rope_scaling;
    if (rs && typeof rs === 'object' && !Array.isArray(rs)) {
      const type = rs.rope_type ?? rs.type;
      if (type !== undefined && type !== 'default') throw new ImportError(`${this.path}: rope_scaling type '${String(type)}' is not supported yet (only the default RoPE)`);
    }
    return this.number('rope_theta', fallback);
  }
}
