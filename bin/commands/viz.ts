// moec viz FILE: the model as a picture (SVG, or DOT with --format dot): blocks as clusters, each MoE layer's
// experts as one box, repeated layers folded; with --kernels, the kernels after fusion as clusters of their ops.
import { checkOrThrow } from '../../compiler/api.ts';
import { parseLayerSelection } from '../../compiler/ir/layer-folding.ts';
import { pictureDot } from '../../compiler/ir/picture.ts';
import { dotToSvg } from '../../compiler/ir/svg.ts';
import { lowerModel } from '../../compiler/lower/model.ts';
import { LOWER_STAGE, passNames, runPipeline } from '../../compiler/passes/pipeline.ts';
import { emit, parseSets, UsageError } from '../output.ts';

interface VizOptions {
  set?: string[];
  model?: string;
  after?: string;
  disable?: string[];
  kernels?: boolean;
  layers: string;
  format?: 'svg' | 'dot';
  expandParams?: boolean;
  out?: string;
}

/** The last pass before the first fusion pass, or `after` when it comes earlier: the graph kernels are drawn on. */
export function unfusedStage(after: string | undefined): string {
  const names = passNames();
  const beforeFusion = names[names.findIndex((n) => n.startsWith('fuse-')) - 1]!;
  return after !== undefined && names.indexOf(after) < names.indexOf(beforeFusion) ? after : beforeFusion;
}

export async function vizCommand(file: string, opts: VizOptions): Promise<void> {
  const layers = parseLayerSelection(opts.layers);
  if (!layers) throw new UsageError(`--layers expects 'auto', 'all' or indices such as 0-2,5, got '${opts.layers}'`);
  if (opts.kernels && opts.after === LOWER_STAGE) throw new UsageError('--kernels needs types: pick a pass from shape-inference on for --after');
  const format = opts.format ?? (opts.out?.endsWith('.dot') ? 'dot' : 'svg');
  const lowered = lowerModel(checkOrThrow(file, { set: parseSets(opts.set), model: opts.model }), {});
  const g = runPipeline(lowered, { after: opts.after, disable: opts.disable });
  const unfused = opts.kernels ? runPipeline(lowered, { after: unfusedStage(opts.after), disable: opts.disable }) : undefined;
  const dot = pictureDot(g, { layers, unfused, expandParams: opts.expandParams });
  emit(format === 'dot' ? dot : await dotToSvg(dot), opts.out);
}
