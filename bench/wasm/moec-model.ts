// moec's side of the wasm benchmark: a spec compiled for the wasm target with its weights loaded once, then timed
// forward passes, with a per-kernel profile.
import { checkOrThrow } from '../../compiler/api.ts';
import { lowerModel } from '../../compiler/lower/model.ts';
import { runPipeline } from '../../compiler/passes/pipeline.ts';
import { compileWasm } from '../../bin/compile.ts';
import { relaxedSimdSupported } from '../../runtime/wasm/features.ts';
import { WasmProgram, type Storage } from '../../runtime/wasm/run.ts';
import { openCheckpoint } from '../../runtime/safetensors/index.ts';
import { bindWeights, type BoundParam } from '../../runtime/weights/bind.ts';
import { randomWeights } from '../../runtime/weights/random.ts';
import type { Graph } from '../../compiler/ir/types.ts';

export interface MoecModel {
  graph: Graph;
  /** One forward pass on token ids [batch, seq]; returns the outputs and the wall time. */
  forward(ids: Int32Array, profile?: (kernel: string, ops: string[], ms: number) => void): { outputs: Record<string, Storage>; ms: number };
  close(): void;
  fma: boolean;
  loadMs: number;
}

/** Compiles the spec; weights from a safetensors checkpoint, or seeded random ones when `weights` is undefined. */
export function loadMoec(spec: string, weights: string | undefined, threads: number, batch = 1): MoecModel {
  const s = checkOrThrow(spec);
  const graph = runPipeline(lowerModel(s));
  const compiled = compileWasm(graph);
  const fma = relaxedSimdSupported();
  const wasm = new WasmProgram(compiled.program, compiled.plan, fma ? compiled.binaries.relaxed : compiled.binaries.simd, compiled.sizes, { threads });
  let bound: Map<string, BoundParam>;
  if (weights) {
    const ckpt = openCheckpoint(weights);
    bound = bindWeights(graph.params, s.checkpoint?.tensors ?? [], ckpt, weights);
    ckpt.close();
  } else bound = randomWeights(graph.params, 0);
  const t0 = performance.now();
  wasm.load((n) => bound.get(n)!.data);
  const loadMs = performance.now() - t0;
  bound.clear();
  return {
    graph, fma, loadMs,
    forward(ids, profile) {
      const t = performance.now();
      const outputs = wasm.run({ params: () => { throw new Error('weights are loaded'); }, inputs: { input_ids: ids }, sizes: { batch, seq: ids.length / batch }, profile });
      return { outputs, ms: performance.now() - t };
    },
    close: () => wasm.close(),
  };
}
