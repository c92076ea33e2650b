// The kernel program the CUDA target runs: the graph's kernels with the MoE dispatch as its parallel passes (one
// thread would copy every token row) and each router's softmax/top-k fused into its narrow matmul.
import type { Graph } from '../../compiler/ir/types.ts';
import { fuseRouters } from '../../compiler/kernel/fuse-router.ts';
import type { KernelProgram } from '../../compiler/kernel/ir.ts';
import { splitDispatch } from '../../compiler/kernel/parallel-dispatch.ts';
import { scheduleGraph } from '../../compiler/kernel/schedule.ts';
import { isNarrow } from './narrow-gemm.ts';

export const cudaKernelProgram = (graph: Graph): KernelProgram => fuseRouters(splitDispatch(scheduleGraph(graph)), isNarrow);
