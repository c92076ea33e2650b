export { execute, kernels, ExecutionError, type ExecuteOptions, type ExecuteResult } from './execute.ts';
export type { Kernel, KernelContext, Tensor } from './tensor.ts';
export { broadcastIndex, broadcastShape, f32, formatShape, i32, numel, strides, tensorOf } from './tensor.ts';
export { erf, erfc, roundToBf16, roundToF16 } from './kernels/elementwise.ts';
export { relativeBucket } from './kernels/attention.ts';
export { balancedHash, hashRouteTable, mulberry32, topkIndices } from './kernels/routing.ts';
