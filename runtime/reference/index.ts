export { execute, kernels, ExecutionError, type ExecuteOptions } from './execute.ts';
export type { Tensor } from './tensor.ts';
