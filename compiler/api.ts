// The front end as a library: everything the CLI does before running a model, as plain functions.
import { checkPlacement } from './lower/placement.ts';
import { formatDiagnostics, SpecError, type Diagnostic } from '../dsl/diagnostics.ts';
import { loadProgram, type LoadedProgram } from '../dsl/load.ts';
import type { SourceFile } from '../dsl/source.ts';
import type { Graph } from './ir/types.ts';
import { lowerModel, type LowerOptions } from './lower/model.ts';
import { runPipeline, type PipelineOptions } from './passes/pipeline.ts';
import { checkProgram, type CheckOptions } from './spec/check.ts';
import type { ModelSpec } from './spec/types.ts';
import { computeStats, type ModelStats } from './stats.ts';
import { paramCountDiagnostic } from './param-limit.ts';

export type { Graph } from './ir/types.ts';
export type { ModelSpec } from './spec/types.ts';
export type { ModelStats } from './stats.ts';




export { printGraph } from './ir/print.ts';
export { parseGraph } from './ir/parse.ts';
export { graphToJson, graphFromJson } from './ir/json.ts';
export { graphToDot } from './ir/dot.ts';
export { verifyGraph } from './ir/verify.ts';
export { passNames } from './passes/pipeline.ts';

export interface Checked {
  model?: ModelSpec;
  diagnostics: Diagnostic[];
  sources: Map<string, SourceFile>;
  program: LoadedProgram;
}

/** Parses and checks a spec file (and its imports). `text` replaces the file's contents (editors, playgrounds). */
export function check(file: string, options: CheckOptions = {}, text?: string): Checked {
  const program = loadProgram(file, text);
  const result = checkProgram(program, options);
  const tooMany = result.model ? paramCountDiagnostic(result.model) : undefined;
  if (tooMany) return { model: undefined, diagnostics: [...result.diagnostics, tooMany], sources: program.sources, program };
  return { ...result, sources: program.sources, program };
}

/** The checked model, or a SpecError carrying every diagnostic. */
export function checkOrThrow(file: string, options: CheckOptions = {}): ModelSpec {
  const c = check(file, options);
  if (!c.model) throw new SpecError(c.diagnostics.length ? c.diagnostics : [{ severity: 'error', message: `${file}: no model` }], c.sources);
  return c.model;
}

export function renderDiagnostics(c: Checked): string {
  return formatDiagnostics(c.diagnostics, c.sources);
}

export interface CompileOptions extends CheckOptions, PipelineOptions, LowerOptions {}

/** Spec file → graph IR after the pass pipeline (or after `options.after`). */
export function lower(file: string, options: CompileOptions = {}): Graph {
  const spec = checkOrThrow(file, options);
  if (options.expertParallel !== undefined) checkPlacement(spec, options.expertParallel);
  return runPipeline(lowerModel(spec, options), options);
}

export function stats(file: string, options: CheckOptions & { seq?: number } = {}): ModelStats {
  return computeStats(lower(file, options), options.seq);
}
