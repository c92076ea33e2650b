// Every graph op's loop-nest lowering, in one table.
import { attentionOps } from './attention.ts';
import type { OpLowering } from './context.ts';
import { dftOps } from './dft.ts';
import { elementwiseOps } from './elementwise.ts';
import { matmulOps } from './matmul.ts';
import { productKeyOps } from './product-key.ts';
import { reduceOps } from './reduce.ts';
import { routingOps } from './routing.ts';
import { shapeOps } from './shape.ts';

export const opLowerings: Record<string, OpLowering> = {
  ...elementwiseOps, ...reduceOps, ...matmulOps, ...attentionOps, ...dftOps, ...routingOps, ...productKeyOps, ...shapeOps,
};
