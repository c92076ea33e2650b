// What a valid spec promises beyond the front end: it checks without diagnostics, lowers, every pass leaves IR the
// verifier accepts, and the IR after each stage round-trips through its text form (print → parse → print gives the
// same text) and its JSON form (to JSON and back gives the same graph). Returns what broke (empty: all held).
import { isDeepStrictEqual } from 'node:util';
import { check, renderDiagnostics } from '../../compiler/api.ts';
import { graphFromJson, graphToJson } from '../../compiler/ir/json.ts';
import { parseGraph } from '../../compiler/ir/parse.ts';
import { printGraph } from '../../compiler/ir/print.ts';
import type { Graph } from '../../compiler/ir/types.ts';
import { verifyGraph } from '../../compiler/ir/verify.ts';
import { lowerModel } from '../../compiler/lower/model.ts';
import { graphPasses, LOWER_STAGE, runPipeline } from '../../compiler/passes/pipeline.ts';

/** Round-trip failures of one graph through the text and JSON forms of the IR. */
export function roundTripViolations(g: Graph, stage: string): string[] {
  const out: string[] = [];
  const text = printGraph(g);
  const again = printGraph(parseGraph(text, `<${stage}>`));
  if (again !== text) out.push(`after ${stage}: print → parse → print differs from print`);
  if (!isDeepStrictEqual(graphFromJson(graphToJson(g)), g)) out.push(`after ${stage}: the graph changes through JSON`);
  return out;
}

/**
 * Checks, lowers and runs every pass of `text` (as the contents of `path`), verifying each stage. The IR round-trips
 * after every stage, or (`roundTrips: 'ends'`, the quick CI run) after lowering and after the last pass only.
 */
export function compilerViolations(path: string, text: string, roundTrips: 'every-stage' | 'ends' = 'every-stage'): string[] {
  const c = check(path, {}, text);
  if (!c.model || c.diagnostics.length > 0) return [`a generated spec does not check:\n${renderDiagnostics(c)}`];
  const out: string[] = [];
  try {
    const lowered = lowerModel(c.model);
    let g = lowered;
    const last = graphPasses[graphPasses.length - 1]!.name;
    const stage = (name: string) => {
      const problems = verifyGraph(g);
      if (problems.length > 0) out.push(`the verifier rejects the IR after ${name}: ${problems.slice(0, 3).map((p) => p.message).join('; ')}`);
      else if (roundTrips === 'every-stage' || name === LOWER_STAGE || name === last) out.push(...roundTripViolations(g, name));
    };
    stage(LOWER_STAGE);
    for (const pass of graphPasses) {
      if (out.length > 0) break;
      g = pass.run(g);
      stage(pass.name);
    }
    // The pipeline as the CLI runs it, verifier on, ends where stepping through the passes did.
    if (out.length === 0 && printGraph(runPipeline(lowered, { verify: true })) !== printGraph(g)) out.push('runPipeline differs from running the passes in order');
  } catch (e) {
    out.push(`threw ${e instanceof Error ? `${e.name}: ${e.message}\n${e.stack}` : String(e)}`);
  }
  return out;
}
