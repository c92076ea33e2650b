// Data movement: transpose, slice, concat.
import { add, dim, flat, i, store } from '../expr.ts';
import type { Expr, Stmt } from '../ir.ts';
import { read, type OpLowering } from './context.ts';
import { forEachIndex } from './elementwise.ts';
import { axisOf } from './reduce.ts';

export const shapeOps: Record<string, OpLowering> = {
  transpose: ({ ins, outs, attrs }) => {
    const x = ins[0]!;
    const out = outs[0]!;
    const perm = attrs.perm as number[];
    return forEachIndex(out.shape, (c) => {
      const src: Expr[] = new Array<Expr>(perm.length);
      perm.forEach((p, d) => (src[p] = c[d]!));
      return [store(out.buffer, flat(c, out.shape.map(dim)), read(x, flat(src, x.shape.map(dim))))];
    });
  },
  slice: ({ ins, outs, attrs }) => {
    const x = ins[0]!;
    const out = outs[0]!;
    const axis = axisOf(x.shape.length, attrs.axis);
    return forEachIndex(out.shape, (c) => {
      const src = c.map((v, d) => (d === axis ? add(v, i(attrs.start as number)) : v));
      return [store(out.buffer, flat(c, out.shape.map(dim)), read(x, flat(src, x.shape.map(dim))))];
    });
  },
  concat: ({ ins, outs, attrs }) => {
    const out = outs[0]!;
    const axis = axisOf(out.shape.length, attrs.axis);
    const stmts: Stmt[] = [];
    let offset: Expr = i(0);
    for (const x of ins) {
      const at = offset;
      stmts.push(...forEachIndex(x.shape, (c) => {
        const dst = c.map((v, d) => (d === axis ? add(v, at) : v));
        return [store(out.buffer, flat(dst, out.shape.map(dim)), read(x, flat(c, x.shape.map(dim))))];
      }));
      offset = add(offset, dim(x.shape[axis]!));
    }
    return stmts;
  },
};
