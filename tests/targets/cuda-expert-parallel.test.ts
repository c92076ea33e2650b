// The CUDA rendering of an expert-parallel rank's program: the exchanges are NCCL calls the runtime makes, not
// functions, and in bf16 the rows a dispatch exchange sends and receives are 16-bit on both ends, as the tensor-core
// matmul that reads them wants them.
import { describe, expect, it } from 'vitest';
import { lowerModel } from '../../compiler/lower/model.ts';
import { runPipeline } from '../../compiler/passes/pipeline.ts';
import { cudaCompiled, renderProgram } from '../../targets/cuda/render.ts';
import { cudaKernelProgram } from '../../targets/cuda/program.ts';
import { fixtureDirs, importedSpec } from '../helpers/fixtures.ts';

describe('an expert-parallel Mixtral fixture for CUDA', () => {
  const spec = importedSpec(fixtureDirs().find((d) => d.endsWith('/mixtral'))!);
  const program = cudaKernelProgram(runPipeline(lowerModel(spec, { expertParallel: 2 })));
  const exchanges = program.kernels.filter((k) => k.collective);

  it('has a dispatch and a combine exchange per MoE layer, each with the row width', () => {
    expect(exchanges.map((k) => [k.collective!.op, k.collective!.ranks, k.collective!.width])).toEqual([
      ['all_to_all_dispatch', 2, 64], ['all_to_all_combine', 2, 64], ['all_to_all_dispatch', 2, 64], ['all_to_all_combine', 2, 64],
    ]);
  });

  it('renders no function and no launch for them', () => {
    const compiled = cudaCompiled(renderProgram(program, { precision: 'bf16', arch: 'sm_80' }));
    const names = new Set(exchanges.map((k) => k.name));
    expect(compiled.launches.filter((l) => names.has(l.kernel))).toEqual([]);
    expect(compiled.launches.length).toBeGreaterThan(0);
  });

  it('in bf16, the sent and the received rows of each dispatch exchange are bf16 together; the combine\'s stay f32', () => {
    const bf16 = new Set(cudaCompiled(renderProgram(program, { precision: 'bf16', arch: 'sm_80' })).bf16);
    for (const k of exchanges) {
      const [a, , c] = k.buffers.map((b) => b.name);
      if (k.collective!.op === 'all_to_all_dispatch') expect([bf16.has(a!), bf16.has(c!)], k.name).toEqual([true, true]);
      else expect(bf16.has(k.buffers.at(-1)!.name), k.name).toBe(false);
    }
  });
});
