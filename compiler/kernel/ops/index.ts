// Every graph op's loop-nest lowering, in one table.
import { attentionOps } from './attention.ts';
import type { OpLowering } from './context.ts';
import { elementwiseOps } from './elementwise.ts';
import { matmulOps } from './matmul.ts';
import { reduceOps } from './reduce.ts';
import { routingOps } from './routing.ts';
import { shapeOps } from './shape.ts';

export const opLowerings: Record<string, OpLowering> = {
  ...elementwiseOps, ...reduceOps, ...matmulOps, ...attentionOps, ...routingOps, ...shapeOps,
};
