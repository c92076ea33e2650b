// What an op lowering sees: its operands and results as named buffers with symbolic shapes, and its attributes.
import type { Attr, Dim, DType } from '../../ir/types.ts';
import { load, loadI } from '../expr.ts';
import type { AttentionSpec, DispatchSpec, Expr, GemmSpec, RouterSpec, Stmt } from '../ir.ts';

export interface Operand {
  buffer: string;
  dtype: DType;
  shape: Dim[];
}

export interface OpContext {
  ins: Operand[];
  outs: Operand[];
  attrs: Record<string, Attr>;
  /** A fresh scratch buffer for this kernel (counting sorts, masks). */
  scratch(dtype: DType, size: Dim): string;
  /** A compile-time table the kernel reads. */
  constant(dtype: DType, data: number[]): string;
  /** Marks the kernel as a matrix product a target may run with its own tiled matmul. */
  gemm(spec: GemmSpec): void;
  /** Marks the kernel as attention a target may run with its own matmuls and softmax. */
  attention(spec: AttentionSpec): void;
  /** Marks the kernel as the MoE dispatch's counting sort, which a target may run in parallel. */
  dispatch(spec: DispatchSpec): void;
  /** Marks the kernel as a router's softmax and top-k, which a target may fuse into the router's matmul. */
  router(spec: RouterSpec): void;
}

export type OpLowering = (ctx: OpContext) => Stmt[];

export const isFloat = (d: DType) => d === 'f32' || d === 'f16' || d === 'bf16';

/** A load typed by the operand's dtype. */
export const read = (op: Operand, index: Expr): Expr => (isFloat(op.dtype) ? load(op.buffer, index) : loadI(op.buffer, index));
