// One transformer layer: residual branches for attention, cross-attention and the feed-forward part.
import type { LayerSpec } from '../spec/types.ts';
import { lowerAttention, lowerMla, type Sequence } from './attention.ts';
import type { GraphBuilder } from './builder.ts';
import { lowerFfn } from './ffn.ts';
import { lowerFourier } from './fourier.ts';
import { lowerMoe, type MoeContext, type RouterRecord } from './moe.ts';
import { lowerNorm } from './norm.ts';
import { lowerPeer } from './peer.ts';

export interface BlockContext extends MoeContext {
  prefix: string;
  encoderOut?: Sequence;
  relBiasTable?: string;
  routers: RouterRecord[];
}

export function lowerBlock(b: GraphBuilder, x: string, layer: LayerSpec, ctx: BlockContext): string {
  const { prefix, dModel } = ctx;
  const self: Sequence = { x, len: ctx.len };
  const branchScale = (y: string) => (layer.residualScale === 1 ? y : b.op('scale', [y], { factor: layer.residualScale }));
  const attention = (input: string) => {
    const a = layer.attention!;
    const seq = { x: input, len: ctx.len };
    if (a.kind === 'fourier') return lowerFourier(b, seq, a, dModel);
    return a.kind === 'mla'
      ? lowerMla(b, seq, a, `${prefix}.attn`, dModel)
      : lowerAttention(b, seq, seq, a, `${prefix}.attn`, dModel, ctx.relBiasTable);
  };
  const ffn = (input: string) => {
    const f = layer.ffn!;
    if (f.kind === 'ffn') return lowerFfn(b, input, f, `${prefix}.ffn`, dModel);
    if (f.kind === 'peer') return lowerPeer(b, input, f, `${prefix}.peer`, ctx);
    const { y, router } = lowerMoe(b, input, f, `${prefix}.moe`, ctx);
    ctx.routers.push(router);
    return y;
  };
  const norm = (input: string, name: string) => lowerNorm(b, input, layer.norm, `${prefix}.${name}`, dModel);

  if (layer.residual === 'parallel') {
    const n = b.at(`${prefix}.attn`, () => norm(x, 'norm'));
    const a = b.at(`${prefix}.attn`, () => attention(n));
    const f = b.at(`${prefix}.ffn`, () => ffn(n));
    return b.op('add', [b.op('add', [x, branchScale(a)]), branchScale(f)]);
  }
  const branch = (input: string, name: string, loc: string, body: (h: string) => string) =>
    b.at(`${prefix}.${loc}`, () => {
      if (layer.residual === 'pre_norm') return b.op('add', [input, branchScale(body(norm(input, name)))]);
      return norm(b.op('add', [input, branchScale(body(input))]), name);
    });

  let h = self.x;
  if (layer.attention) h = branch(h, 'attn_norm', 'attn', attention);
  if (layer.crossAttention) {
    const enc = ctx.encoderOut!;
    h = branch(h, 'cross_norm', 'cross', (q) => lowerAttention(b, { x: q, len: ctx.len }, enc, layer.crossAttention!, `${prefix}.cross`, dModel));
  }
  if (layer.ffn) h = branch(h, 'ffn_norm', layer.ffn.kind, ffn);
  return h;
}
