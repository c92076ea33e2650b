// A pass is a named, pure function from graph to graph. Pipelines are lists of pass names, so
// `--list-passes`, `--after NAME` and `--disable NAME` fall out of the data.
import type { Graph } from '../ir/types.ts';

export interface Pass {
  name: string;
  description: string;
  run(g: Graph): Graph;
}

export class PassError extends Error {
  constructor(readonly pass: string, message: string) {
    super(`${pass}: ${message}`);
  }
}
