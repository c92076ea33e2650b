// The CUDA target from the CLI: the graph scheduled into kernels, rendered to CUDA C, compiled by NVRTC on the
// machine's GPU and run there.
import type { Graph } from '../compiler/ir/types.ts';
import { planMemory } from '../compiler/kernel/memory-plan.ts';
import { archOf, cudaCompiled, renderProgram, type Precision } from '../targets/cuda/render.ts';
import { cudaKernelProgram } from '../targets/cuda/program.ts';
import { tokenFeeds, type TokenInput } from '../runtime/inputs.ts';
import { checkFits, cudaLimit } from '../runtime/limits/fits.ts';
import { runNeeds } from '../runtime/limits/needs.ts';
import type { OnProgress } from '../runtime/progress.ts';
import { namedOutputs, prepareRun, type NamedOutput } from '../runtime/run-model.ts';
import type { TensorSource } from '../runtime/safetensors/index.ts';
import { CudaError, openCuda } from '../runtime/cuda/driver.ts';
import { openNccl } from '../runtime/cuda/nccl.ts';
import { runExpertParallel } from '../runtime/cuda/ranks.ts';
import type { RankInput, RanksExecutor } from '../runtime/expert-parallel.ts';
import { CudaProgram } from '../runtime/cuda/run.ts';
import type { NameMapping } from '../runtime/weights/bind.ts';

export function runCuda(
  graph: Graph, mappings: readonly NameMapping[], checkpoint: TensorSource, weightsPath: string, inputs: Map<string, TokenInput>,
  precision: Precision = 'f32', options: { onProgress?: OnProgress } = {},
): { outputs: NamedOutput[]; device: string } {
  const program = cudaKernelProgram(graph);
  const gpu = openCuda();
  try {
    // The device's memory against the model's, before a weight is read.
    checkFits(runNeeds(graph, tokenFeeds(inputs).sizes), cudaLimit(gpu.device, gpu.totalMemory));
    const { weights, ids, sizes } = prepareRun(graph, mappings, checkpoint, weightsPath, inputs);
    // Rendered for this GPU: wgmma's matmuls on an H100.
    const cuda = renderProgram(program, { precision, arch: archOf(gpu.capability) });
    const p = new CudaProgram(gpu, program, planMemory(program), cudaCompiled(cuda), options);
    const out = p.run({ params: (n) => weights.get(n)!.data, inputs: ids, sizes });
    p.destroy();
    return { outputs: namedOutputs(graph, out, sizes), device: `${gpu.device} (sm_${gpu.capability.join('')})` };
  } finally {
    gpu.close();
  }
}

/**
 * Expert parallelism on this machine's GPUs: rank r on GPU r, one process driving them all, the exchanges through
 * NCCL (ncclCommInitAll). The program is rendered once for the first GPU's architecture.
 */
export function cudaRanksExecutor(graph: Graph, ranks: number, precision: Precision = 'f32', options: { onProgress?: OnProgress } = {}): RanksExecutor & { device: string } {
  const first = openCuda(0);
  if (first.deviceCount < ranks) {
    first.close();
    throw new CudaError(`--expert-parallel ${ranks} puts one rank on each GPU, and this machine has ${first.deviceCount}`);
  }
  const executor = (perRank: RankInput[], sizes: Record<string, number>) => {
    const nccl = openNccl();
    const gpus = [first, ...Array.from({ length: ranks - 1 }, (_, r) => openCuda(r + 1))];
    const comms = nccl.initAll(gpus.map((g) => g.ordinal));
    const program = cudaKernelProgram(graph);
    const compiled = cudaCompiled(renderProgram(program, { precision, arch: archOf(first.capability) }));
    const local = gpus.map((cuda, rank) => {
      cuda.use();
      return { rank, cuda, comm: comms[rank], program: new CudaProgram(cuda, program, planMemory(program), compiled, rank === 0 ? options : {}) };
    });
    try {
      return runExpertParallel(nccl, local, perRank.map((r) => ({ params: (n: string) => r.weights.get(n)!.data, inputs: r.ids, sizes })));
    } finally {
      for (const l of local) {
        l.cuda.use();
        l.program.destroy();
      }
      for (const c of comms) nccl.destroy(c);
      for (const g of gpus) g.close();
    }
  };
  return Object.assign(executor, { device: `${ranks} × ${first.device} (sm_${first.capability.join('')}), NCCL` });
}
