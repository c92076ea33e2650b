// The fused ops of the fusion passes, computed as the compositions they stand for, so a fused graph runs on the
// reference executor and its results can be compared with the unfused graph's.
import { parseEw, type EwExpr } from '../../../compiler/ir/elementwise-expr.ts';
import type { Attr } from '../../../compiler/ir/types.ts';
import type { Kernel, KernelContext, Tensor } from '../tensor.ts';
import { attentionKernels } from './attention.ts';
import { elementwiseKernels } from './elementwise.ts';
import { matmulKernels } from './matmul.ts';
import { reduceKernels } from './reduce.ts';
import { routingKernels } from './routing.ts';

const none: KernelContext = { sizes: {}, outShapes: [] };

function activate(t: Tensor, act: Attr | undefined): Tensor {
  if (act === undefined) return t;
  const k = elementwiseKernels[act as string];
  if (!k) throw new Error(`unknown epilogue activation '${String(act)}'`);
  return k([t], {}, none)[0]!;
}

const mul = (a: Tensor, b: Tensor) => elementwiseKernels.mul!([a, b], {}, none)[0]!;

/** A fused elementwise expression, evaluated op by op with the unfused kernels (broadcasting as they do). */
function evaluate(e: EwExpr, ins: Tensor[]): Tensor {
  if ('input' in e) return ins[e.input]!;
  const args = e.args.map((a) => evaluate(a, ins));
  return elementwiseKernels[e.op]!(args, e.op === 'scale' ? { factor: e.factor! } : {}, none)[0]!;
}

export const fusedKernels: Record<string, Kernel> = {
  elementwise: (ins, at) => [evaluate(parseEw(String(at.expr)), ins)],
  attention: ([q, k, v, bias], at, ctx) => {
    if (at.rope_theta === undefined) return attentionKernels.attention!(bias ? [q!, k!, v!, bias] : [q!, k!, v!], at, ctx);
    const rope = { theta: at.rope_theta, rotary_dim: at.rope_rotary_dim!, interleaved: at.rope_interleaved === true };
    const rq = attentionKernels.rope!([q!], rope, ctx)[0]!;
    const rk = attentionKernels.rope!([k!], rope, ctx)[0]!;
    return attentionKernels.attention!(bias ? [rq, rk, v!, bias] : [rq, rk, v!], { causal: at.causal!, scale: at.scale! }, ctx);
  },
  linear: (ins, at, ctx) => [activate(matmulKernels.linear!(ins, {}, ctx)[0]!, at.act)],
  grouped_linear: (ins, at, ctx) => [activate(routingKernels.grouped_linear!(ins, {}, ctx)[0]!, at.act)],
  gated_linear: ([x, wg, wu], at, ctx) => [mul(activate(matmulKernels.linear!([x!, wg!], {}, ctx)[0]!, at.act), matmulKernels.linear!([x!, wu!], {}, ctx)[0]!)],
  gated_grouped_linear: ([rows, wg, wu, offsets], at, ctx) => [
    mul(activate(routingKernels.grouped_linear!([rows!, wg!, offsets!], {}, ctx)[0]!, at.act), routingKernels.grouped_linear!([rows!, wu!, offsets!], {}, ctx)[0]!),
  ],
  linear_add: ([x, w, r], _at, ctx) => [elementwiseKernels.add!([matmulKernels.linear!([x!, w!], {}, ctx)[0]!, r!], {}, none)[0]!],
  softmax_topk: ([logits], at, ctx) => {
    const probs = reduceKernels.softmax!([logits!], { axis: -1 }, ctx)[0]!;
    let [weights, indices] = routingKernels.topk!([probs], { k: at.k! }, ctx) as [Tensor, Tensor];
    if (at.normalize === true) {
      const sum = reduceKernels.reduce_sum!([weights], { axis: -1, keepdims: true }, ctx)[0]!;
      weights = elementwiseKernels.div!([weights, sum], {}, none)[0]!;
    }
    return [probs, weights, indices];
  },
};
