// What `moec viz` draws, as DOT: the graph after a pass with each MoE layer's experts as one box, runs of layers
// folded into placeholders, and with `kernels` the kernel schedule (each fused kernel a cluster of the ops it
// computes, drawn on the graph before fusion).
import { graphToDot } from './dot.ts';
import { kernelGroups } from './fusion-groups.ts';
import { foldLayers, type LayerSelection } from './layer-folding.ts';
import type { Graph } from './types.ts';

export interface PictureOptions {
  /** Which layers to draw (default 'auto': the first layer of each distinct structure). */
  layers?: LayerSelection;
  /** The same graph before the fusion passes: draw the kernels of `g` as clusters of its ops. */
  unfused?: Graph;
  expandParams?: boolean;
}

export function pictureDot(g: Graph, options: PictureOptions = {}): string {
  if (options.unfused) {
    const u = options.unfused;
    return graphToDot(u, { experts: 'cluster', kernels: kernelGroups(u, g), folds: foldLayers(u, options.layers ?? 'auto'), expandParams: options.expandParams });
  }
  return graphToDot(g, { experts: 'node', folds: foldLayers(g, options.layers ?? 'auto'), expandParams: options.expandParams });
}
