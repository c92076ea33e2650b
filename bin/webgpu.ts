// The WebGPU target from the CLI: the graph scheduled into kernels, rendered to WGSL, run on an adapter.
import type { Graph } from '../compiler/ir/types.ts';
import { planMemory } from '../compiler/kernel/memory-plan.ts';
import { scheduleGraph } from '../compiler/kernel/schedule.ts';
import { renderProgram } from '../targets/wgsl/render.ts';
import { tokenFeeds, type TokenInput } from '../runtime/inputs.ts';
import { checkFits, webgpuLimit } from '../runtime/limits/fits.ts';
import { runNeeds } from '../runtime/limits/needs.ts';
import type { OnProgress } from '../runtime/progress.ts';
import { namedOutputs, prepareRun, type NamedOutput } from '../runtime/run-model.ts';
import type { TensorSource } from '../runtime/safetensors/index.ts';
import { openDevice } from '../runtime/webgpu/device.ts';
import { WebGpuProgram } from '../runtime/webgpu/run.ts';
import type { NameMapping } from '../runtime/weights/bind.ts';

export async function runWebGpu(
  graph: Graph, mappings: readonly NameMapping[], checkpoint: TensorSource, weightsPath: string, inputs: Map<string, TokenInput>,
  options: { adapter?: string; halfWeights?: boolean; onProgress?: OnProgress } = {},
): Promise<{ outputs: NamedOutput[]; adapter: string }> {
  const program = scheduleGraph(graph);
  const gpu = await openDevice(options.adapter);
  try {
    // The adapter's binding limit against the largest tensor, before a weight is read.
    const limits = gpu.device.limits;
    checkFits(runNeeds(graph, tokenFeeds(inputs).sizes), webgpuLimit(gpu.adapter, limits.maxStorageBufferBindingSize, limits.maxBufferSize));
    const { weights, ids, sizes } = prepareRun(graph, mappings, checkpoint, weightsPath, inputs);
    // Shaders for this adapter: subgroup reductions where it has them, f16 weights as f16 where it has shader-f16.
    const p = await WebGpuProgram.create(gpu, program, planMemory(program), renderProgram(program, { features: gpu.shaderFeatures, halfWeights: options.halfWeights }), { onProgress: options.onProgress });
    const out = await p.run({ params: (n) => weights.get(n)!.data, inputs: ids, sizes });
    p.destroy();
    return { outputs: namedOutputs(graph, out, sizes), adapter: gpu.adapter };
  } finally {
    gpu.device.destroy();
  }
}
