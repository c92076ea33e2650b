// The whole model: embeddings, the encoder and decoder stacks, the head, and the router outputs and losses.
import { normDim } from '../ir/dims.ts';
import type { Dim, Graph } from '../ir/types.ts';
import type { ModelSpec, StackSpec } from '../spec/types.ts';
import type { Sequence } from './attention.ts';
import { lowerBlock } from './block.ts';
import { GraphBuilder } from './builder.ts';
import type { RouterRecord } from './moe.ts';
import { lowerNorm } from './norm.ts';

export interface LowerOptions {
  /** Also output the residual stream after the embedding and after each block, under Hugging Face's names. */
  hiddenStates?: boolean;
  /** Expert parallelism: the graph one of this many ranks runs (compiler/lower/placement.ts checks the spec allows it). */
  expertParallel?: number;
  /** Switch capacity counted within groups of this many sequences instead of the whole batch (a rank's share of it). */
  capacityGroupSequences?: number;
}

function embed(b: GraphBuilder, spec: ModelSpec, ids: string, len: Dim): string {
  return b.at('embed', () => {
    let x = b.op('embedding', [ids, b.param('embed', [spec.vocab, spec.dModel])]);
    if (spec.embedding.positions === 'learned') {
      const pos = b.op('embedding', [b.op('arange', [], { n: len }), b.param('pos_embed', [spec.embedding.maxPositions, spec.dModel])]);
      x = b.op('add', [x, pos]);
    }
    return spec.embedding.scale === 1 ? x : b.op('scale', [x], { factor: spec.embedding.scale });
  });
}

function lowerStack(
  b: GraphBuilder, spec: ModelSpec, stack: StackSpec, x0: string, ids: string, len: Dim, routers: RouterRecord[],
  hiddenName: string | undefined, encoderOut: Sequence | undefined, options: LowerOptions,
): string {
  const placement = {
    ranks: options.expertParallel,
    capacityGroup: options.capacityGroupSequences === undefined ? undefined : normDim(`${options.capacityGroupSequences}*${len}`),
  };
  let x = x0;
  const hidden = [x0];
  // T5 keeps the relative-bias table in the first layer and every layer of the stack reuses it.
  const first = stack.layers[0]?.attention;
  const sharedTable = first?.kind === 'attention' && first.relativeBias?.shared
    ? b.param(`${stack.name}.0.attn.rel_bias`, [first.relativeBias.buckets, first.heads])
    : undefined;
  for (const layer of stack.layers) {
    const prefix = `${stack.name}.${layer.index}`;
    // A shared block (stack.share) names its parameters after the layer it reuses, which declared them already.
    const owner = `${stack.name}.${stack.share ? layer.index % stack.share : layer.index}`;
    x = b.aliasing(`${prefix}.`, `${owner}.`, () => lowerBlock(b, x, layer, { prefix, encoderOut, relBiasTable: sharedTable, routers, ids, len, dModel: spec.dModel, vocab: spec.vocab, stack: stack.name, ...placement }));
    hidden.push(x);
  }
  if (stack.finalNorm) {
    x = b.at(`${stack.name}.final_norm`, () => lowerNorm(b, x, stack.finalNorm!, `${stack.name}.final_norm`, spec.dModel));
    // Hugging Face reports the normalised output in place of the last block's raw output.
    hidden[hidden.length - 1] = x;
  }
  if (hiddenName) hidden.forEach((h, i) => b.output(`${hiddenName}.${i}`, h));
  return x;
}

export function lowerModel(spec: ModelSpec, options: LowerOptions = {}): Graph {
  const b = new GraphBuilder(spec.name);
  const routers: RouterRecord[] = [];
  const encDec = spec.encoder !== undefined;
  let encoderOut: Sequence | undefined;
  if (spec.encoder) {
    const ids = b.input('input_ids', 'i32', ['batch', 'seq']);
    const x = lowerStack(b, spec, spec.encoder, embed(b, spec, ids, 'seq'), ids, 'seq', routers, options.hiddenStates ? 'encoder_hidden_states' : undefined, undefined, options);
    encoderOut = { x, len: 'seq' };
    if (options.hiddenStates) b.output('encoder_last_hidden_state', x);
  }
  const decLen = encDec ? 'dec_seq' : 'seq';
  const decIds = b.input(encDec ? 'decoder_input_ids' : 'input_ids', 'i32', ['batch', decLen]);
  const hiddenName = options.hiddenStates ? (encDec ? 'decoder_hidden_states' : 'hidden_states') : undefined;
  const x = lowerStack(b, spec, spec.decoder, embed(b, spec, decIds, decLen), decIds, decLen, routers, hiddenName, encoderOut, options);

  const logits = b.at('head', () => {
    const h = spec.head.scale === 1 ? x : b.op('scale', [x], { factor: spec.head.scale });
    const w = spec.head.tied ? b.param('embed', [spec.vocab, spec.dModel]) : b.param('head.weight', [spec.vocab, spec.dModel]);
    const ins = [h, w];
    if (spec.head.bias) ins.push(b.param('head.bias', [spec.vocab]));
    return b.op('linear', ins);
  });
  b.output('logits', logits);
  lowerRouterOutputs(b, routers);
  return b.graph();
}

/** Losses are computed per stack (token counts differ between encoder and decoder), as HF's encoder_/decoder_aux_loss. */
function lowerRouterOutputs(b: GraphBuilder, routers: RouterRecord[]): void {
  const learned = routers.filter((r) => r.spec.router.kind !== 'hash' && r.spec.router.kind !== 'vocab' && r.spec.router.kind !== 'soft');
  learned.forEach((r, i) => {
    b.output(`router_logits.${i}`, r.logits);
    // The experts each token was sent to, so that any target's routing decisions can be compared exactly.
    if (r.indices && (r.spec.router.kind === 'softmax' || r.spec.router.kind === 'sigmoid')) b.output(`expert_indices.${i}`, r.indices);
  });
  const stacks = [...new Set(learned.map((r) => r.stack))];
  for (const stack of stacks) {
    const prefix = stacks.length > 1 ? `${stack}_` : '';
    lowerLosses(b, learned.filter((r) => r.stack === stack), prefix);
  }
}

/** The load-balancing loss and z-loss over all MoE layers' tokens together, as HF computes them (not averaged per layer). */
function lowerLosses(b: GraphBuilder, learned: RouterRecord[], prefix: string): void {
  b.at('losses', () => {
    const balanced = learned.filter((r) => r.probs && r.indices && r.spec.auxLossCoef > 0);
    const sameShape = balanced.every((r) => r.spec.experts === balanced[0]!.spec.experts && r.spec.topK === balanced[0]!.spec.topK);
    if (balanced.length > 0 && sameShape) {
      const cat = (xs: string[]) => (xs.length === 1 ? xs[0]! : b.op('concat', xs, { axis: 0 }));
      const probs = cat(balanced.map((r) => r.probs!));
      const indices = cat(balanced.map((r) => r.indices!));
      b.output(`${prefix}aux_loss`, b.op('load_balance_loss', [probs, indices], { experts: balanced[0]!.spec.experts }));
    }
    const zl = learned.filter((r) => r.spec.zLossCoef > 0);
    if (zl.length > 0 && zl.every((r) => r.spec.experts === zl[0]!.spec.experts)) {
      b.output(`${prefix}z_loss`, b.op('z_loss', [zl.length === 1 ? zl[0]!.logits : b.op('concat', zl.map((r) => r.logits), { axis: 0 })]));
    }
  });
}
