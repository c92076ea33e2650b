// One grouped bf16 matmul on its own, as a program the CUDA runtime runs like a model: for measuring the tensor-core
// kernel against a grouped GEMM library (torch._grouped_mm) at a layer's shapes, without the rest of the layer.
import { parseGraph } from '../../compiler/ir/parse.ts';
import type { KernelProgram } from '../../compiler/kernel/ir.ts';
import { scheduleGraph } from '../../compiler/kernel/schedule.ts';
import { renderProgram, type CudaProgram } from './render.ts';

export interface GroupedGemmShape {
  /** Output width and inner size: y[rows, N] = x[rows, K] · w[e]ᵀ for the rows of expert e. */
  N: number;
  K: number;
  experts: number;
  /** act(x · wᵀ) ⊙ (x · wuᵀ) with a second weight stack `wu` (SwiGLU's gate and up projections, act silu). */
  gated?: boolean;
  act?: string;
}

/**
 * The program and its bf16 CUDA C: input `x` f32[rows, K] (rows sorted by expert), input `offsets` i32[experts + 1]
 * (expert e's rows are offsets[e] … offsets[e+1]-1), params `w` (and `wu`) f32[experts, N, K] that the runtime stores
 * as bf16, output `y` f32[rows, N]; the one run-time size is `rows`. Run it with runtime/cuda's CudaProgram and
 * cudaCompiled(cuda); the tall or short tiles launch by the rows per expert, as in a model.
 */
export function groupedGemm(shape: GroupedGemmShape): { program: KernelProgram; cuda: CudaProgram } {
  const { N, K, experts, gated = false, act = gated ? 'silu' : undefined } = shape;
  const attrs = act ? ` {act = "${act}"}` : '';
  const product = gated ? `gated_grouped_linear(%x, @w, @wu, %offsets)${attrs}` : `grouped_linear(%x, @w, %offsets)${attrs}`;
  const graph = parseGraph(`graph grouped_gemm {
  input %x: f32[rows, ${K}]
  input %offsets: i32[${experts + 1}]
  param @w: f32[${experts}, ${N}, ${K}]
${gated ? `  param @wu: f32[${experts}, ${N}, ${K}]\n` : ''}  %0 = ${product} : f32[rows, ${N}]
  output y = %0
}`);
  const program = scheduleGraph(graph);
  return { program, cuda: renderProgram(program, { precision: 'bf16' }) };
}
