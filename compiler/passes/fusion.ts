// Fusion passes: rewrites that turn chains of graph ops into the fused ops one kernel computes, each a named
// pass (so `--disable NAME` turns it off) with golden tests in tests/passes/<name>/.
import { ewBinary, ewUnary, mapInputs, parseEw, printEw, substitute, type EwExpr } from '../ir/elementwise-expr.ts';
import type { Node } from '../ir/types.ts';
import { onlyUseOf, rewritePass, type Rule } from './rewrite.ts';

const activations = ['relu', 'gelu', 'gelu_tanh', 'silu', 'sigmoid'];

/** mul(act(W_g·x), W_u·x) → gated_linear(x, W_g, W_u), for dense FFNs and for grouped expert matmuls. */
const gatedUpProjection: Rule = {
  name: 'gated-up-projection',
  apply(n, ctx) {
    if (n.op !== 'mul') return undefined;
    for (const [a, b] of [[n.inputs[0]!, n.inputs[1]!], [n.inputs[1]!, n.inputs[0]!]] as const) {
      const act = onlyUseOf(ctx, a, activations);
      if (!act) continue;
      const gate = onlyUseOf(ctx, act.inputs[0]!, ['linear', 'grouped_linear']);
      const up = onlyUseOf(ctx, b, ['linear', 'grouped_linear']);
      if (!gate || !up || gate.op !== up.op || gate.attrs.act !== undefined || up.attrs.act !== undefined) continue;
      if (gate.inputs[0] !== up.inputs[0]) continue;
      if (gate.op === 'linear' && gate.inputs.length === 2 && up.inputs.length === 2) {
        return { ...n, op: 'gated_linear', inputs: [gate.inputs[0]!, gate.inputs[1]!, up.inputs[1]!], attrs: { act: act.op } };
      }
      if (gate.op === 'grouped_linear' && gate.inputs.length === 3 && up.inputs.length === 3 && gate.inputs[2] === up.inputs[2]) {
        return { ...n, op: 'gated_grouped_linear', inputs: [gate.inputs[0]!, gate.inputs[1]!, up.inputs[1]!, gate.inputs[2]!], attrs: { act: act.op } };
      }
    }
    return undefined;
  },
};

/** act(linear(…)) → linear(…) {act}: the activation in the matmul's epilogue. */
const activationEpilogue: Rule = {
  name: 'activation-epilogue',
  apply(n, ctx) {
    if (!activations.includes(n.op)) return undefined;
    const mm = onlyUseOf(ctx, n.inputs[0]!, ['linear', 'grouped_linear']);
    if (!mm || mm.attrs.act !== undefined) return undefined;
    return { ...mm, outputs: n.outputs, types: n.types, attrs: { ...mm.attrs, act: n.op } };
  },
};

/** add(r, linear(x, w)) → linear_add(x, w, r): the residual add in the projection's epilogue. */
const residualEpilogue: Rule = {
  name: 'residual-epilogue',
  apply(n, ctx) {
    if (n.op !== 'add') return undefined;
    for (const [r, y] of [[n.inputs[0]!, n.inputs[1]!], [n.inputs[1]!, n.inputs[0]!]] as const) {
      const mm = onlyUseOf(ctx, y, 'linear');
      if (!mm || mm.inputs.length !== 2 || mm.attrs.act !== undefined) continue;
      const rt = ctx.type(r);
      if (!rt || !n.types || rt.shape.length !== n.types[0]!.shape.length) continue;
      return { ...n, op: 'linear_add', inputs: [mm.inputs[0]!, mm.inputs[1]!, r], attrs: {} };
    }
    return undefined;
  },
};

/** softmax → topk (→ divide by the sum) as one router kernel; the probabilities stay available for the losses. */
const routerTopk: Rule = {
  name: 'router-topk',
  apply(n, ctx) {
    if (n.op !== 'topk' || n.attrs.groups !== undefined) return undefined;
    const sm = ctx.producer(n.inputs[0]!);
    if (!sm || sm.op !== 'softmax' || (sm.attrs.axis !== undefined && sm.attrs.axis !== -1)) return undefined;
    const fused: Node = {
      ...n, op: 'softmax_topk', inputs: [sm.inputs[0]!], outputs: [sm.outputs[0]!, ...n.outputs],
      attrs: { k: n.attrs.k!, normalize: false }, types: sm.types && n.types ? [sm.types[0]!, ...n.types] : undefined,
    };
    if (!fused.types) delete fused.types;
    return { node: fused, remove: [sm] };
  },
};

/** div(w, reduce_sum(w)) right after softmax_topk → softmax_topk {normalize}. */
const routerNormalize: Rule = {
  name: 'router-normalize',
  apply(n, ctx) {
    if (n.op !== 'div') return undefined;
    const sum = onlyUseOf(ctx, n.inputs[1]!, 'reduce_sum');
    const router = ctx.producer(n.inputs[0]!);
    if (!sum || !router || router.op !== 'softmax_topk' || router.attrs.normalize === true) return undefined;
    const weights = router.outputs[1]!;
    if (sum.inputs[0] !== weights || n.inputs[0] !== weights || ctx.uses(weights) !== 2 || sum.attrs.keepdims !== true) return undefined;
    const types = router.types && n.types ? [router.types[0]!, n.types[0]!, router.types[2]!] : undefined;
    const fused: Node = { ...router, outputs: [router.outputs[0]!, n.outputs[0]!, router.outputs[2]!], attrs: { ...router.attrs, normalize: true }, types };
    if (!types) delete fused.types;
    return { node: fused, remove: [router] };
  },
};

/** attention(rope(q), rope(k), v) → attention(q, k, v) {rope_*}: the rotation applied as q and k are read. */
const ropeIntoAttention: Rule = {
  name: 'rope-into-attention',
  apply(n, ctx) {
    if (n.op !== 'attention' || n.attrs.rope_theta !== undefined) return undefined;
    const rq = onlyUseOf(ctx, n.inputs[0]!, 'rope');
    const rk = onlyUseOf(ctx, n.inputs[1]!, 'rope');
    if (!rq || !rk || JSON.stringify(rq.attrs) !== JSON.stringify(rk.attrs)) return undefined;
    return {
      ...n, inputs: [rq.inputs[0]!, rk.inputs[0]!, ...n.inputs.slice(2)],
      attrs: { ...n.attrs, rope_theta: rq.attrs.theta!, rope_rotary_dim: rq.attrs.rotary_dim!, rope_interleaved: rq.attrs.interleaved! },
    };
  },
};

/** Elementwise ops and what they compute, as an expression over their operands. */
function asExpr(n: Node): EwExpr | undefined {
  if (n.op === 'elementwise') return parseEw(String(n.attrs.expr));
  if (n.op === 'scale') return { op: 'scale', args: [{ input: 0 }], factor: n.attrs.factor as number };
  if (ewUnary.includes(n.op)) return { op: n.op, args: [{ input: 0 }] };
  if (ewBinary.includes(n.op)) return { op: n.op, args: [{ input: 0 }, { input: 1 }] };
  return undefined;
}

const countInput = (e: EwExpr, i: number): number => ('input' in e ? Number(e.input === i) : e.args.reduce((s, a) => s + countInput(a, i), 0));

/**
 * f(…, g(…), …) → elementwise(…) {expr = "f(…, g(…), …)"}: an elementwise op whose operand comes from another
 * elementwise op read only there (same result shape, float) computes both in one pass over memory. Repeated, whole
 * chains become one kernel.
 */
const elementwiseChain: Rule = {
  name: 'elementwise-chain',
  apply(n, ctx) {
    const outer = asExpr(n);
    if (!outer || !n.types || !['f32', 'f16', 'bf16'].includes(n.types[0]!.dtype)) return undefined;
    for (let i = 0; i < n.inputs.length; i++) {
      const p = ctx.producer(n.inputs[i]!);
      if (!p || !onlyUseOf(ctx, n.inputs[i]!, p.op) || !p.types || JSON.stringify(p.types[0]!.shape) !== JSON.stringify(n.types[0]!.shape)) continue;
      const inner = asExpr(p);
      // Only where the expression reads the value once: substituting it twice would compute it twice.
      if (!inner || countInput(outer, i) !== 1) continue;
      // Operands: the outer ones without the fused value, then the inner ones not already there.
      const inputs = n.inputs.filter((_, j) => j !== i);
      const innerIndex = p.inputs.map((r) => {
        const at = inputs.indexOf(r);
        return at >= 0 ? at : inputs.push(r) - 1;
      });
      const expr = substitute(outer, i, mapInputs(inner, (j) => innerIndex[j]!), (j) => (j < i ? j : j - 1));
      return { ...n, op: 'elementwise', inputs, attrs: { expr: printEw(expr) } };
    }
    return undefined;
  },
};

export const fuseElementwise = rewritePass('fuse-elementwise', 'chains of elementwise ops into one kernel', [elementwiseChain]);
export const fuseGatedFfn = rewritePass('fuse-gated-ffn', 'the two up-projections of a gated FFN and the gating into one matmul', [gatedUpProjection]);
export const fuseEpilogues = rewritePass('fuse-epilogues', 'activations and residual adds into the producing matmul', [activationEpilogue, residualEpilogue]);
export const fuseRouter = rewritePass('fuse-router', 'router softmax, top-k and renormalisation into one kernel', [routerTopk, routerNormalize]);
export const fuseAttention = rewritePass('fuse-attention', 'RoPE into the attention kernel', [ropeIntoAttention]);
