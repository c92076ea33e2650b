// From component objects to the checked model: defaults applied, fine-grained segmentation expanded,
// and the semantic rules checked (divisibility of heads and dimensions, k ≤ experts, capacity > 0, …).
import { error, type Diagnostic } from '../../dsl/diagnostics.ts';
import { Fields } from './fields.ts';
import { buildPeer } from './peer.ts';
import { kindsWithRole } from './schema.ts';
import type { EvalContext, ObjectValue } from './values.ts';
import type {
  Activation, AttentionSpec, CheckpointSpec, FfnSpec, FourierSpec, LayerSpec, MlaSpec, ModelSpec, MoeSpec, NormSpec,
  RelativeBiasSpec, RopeSpec, RouterSpec, StackSpec, TensorMapping,
} from './types.ts';

interface Env {
  diags: Diagnostic[];
  dModel: number;
}

const MAX_LAYERS = 4096;

export function buildModel(obj: ObjectValue, diags: Diagnostic[]): ModelSpec {
  const f = new Fields(obj, 'model', {}, diags);
  const vocab = f.int('vocab', 1);
  const dModel = f.int('d_model', 1);
  const env: Env = { diags, dModel };

  const emb = f.component('embedding', ['embedding']);
  const embedding = { scale: 1, positions: 'none' as 'none' | 'learned', maxPositions: 0 };
  if (emb) {
    const e = new Fields(emb.obj, 'embedding', {}, diags);
    embedding.scale = e.number('scale', 1);
    embedding.positions = e.oneOf('positions', ['none', 'learned'] as const, 'none');
    embedding.maxPositions = e.int('max_positions', 0, 0);
    if (embedding.positions === 'learned' && embedding.maxPositions < 1) e.fail('max_positions', 'embedding.max_positions must be set when positions: learned');
  }

  const encObj = f.component('encoder', ['stack']);
  const encoder = encObj ? buildStack(encObj.obj, 'encoder', env) : undefined;
  const decObj = f.component('decoder', ['stack']);
  const decoder = decObj ? buildStack(decObj.obj, 'decoder', env) : { name: 'decoder' as const, layers: [] };
  if (!encoder) {
    for (const layer of decoder.layers) {
      if (layer.crossAttention) {
        diags.push(error(`decoder layer ${layer.index} has cross_attention but the model has no encoder`, f.span('decoder'), 'add encoder: stack { … } to the model, or remove cross_attention'));
        break;
      }
    }
  }

  const head = { tied: false, bias: false, scale: 1 };
  const h = f.component('head', ['head']);
  if (h) {
    const hf = new Fields(h.obj, 'head', {}, diags);
    head.tied = hf.bool('tied', false);
    head.bias = hf.bool('bias', false);
    head.scale = hf.number('scale', 1);
  }

  const ck = f.component('checkpoint', ['checkpoint']);
  const checkpoint = ck ? buildCheckpoint(ck.obj, diags) : undefined;
  return { name: obj.name ?? 'model', vocab, dModel, embedding, encoder, decoder, head, checkpoint, span: obj.span };
}

function buildStack(obj: ObjectValue, name: 'encoder' | 'decoder', env: Env): StackSpec {
  const f = new Fields(obj, 'stack', {}, env.diags);
  let count = f.int('layers', 0, 0);
  if (count > MAX_LAYERS) {
    f.fail('layers', `stack.layers is ${count}; at most ${MAX_LAYERS} layers are supported`);
    count = 0;
  }
  const layers: LayerSpec[] = [];
  const blockField = f.component('block', ['block']);
  if (blockField) {
    const seen = new Set<string>();
    for (let i = 0; i < count; i++) {
      // Each layer evaluates the block with its own index; a mistake repeated in every layer is reported once.
      const layerDiags: Diagnostic[] = [];
      layers.push(buildBlock(blockField.obj, { layer: i, layers: count }, { ...env, diags: layerDiags }, name));
      for (const d of layerDiags) {
        const key = `${d.message}@${d.span?.file}:${d.span?.start}`;
        if (!seen.has(key)) {
          seen.add(key);
          env.diags.push(d);
        }
      }
    }
  }
  const fn = f.component('final_norm', kindsWithRole('norm'));
  const stack: StackSpec = { name, layers, finalNorm: fn ? buildNorm(fn.obj, fn.kind, {}, env.diags) : undefined };
  const share = f.value('share');
  if (share && share.t !== 'none') {
    stack.share = f.int('share', 1);
    const differs = sharingMismatch(layers, stack.share);
    if (differs) f.fail('share', `stack.share ${stack.share}: layer ${differs[0]} differs from layer ${differs[1]}, whose parameters it would reuse`, 'a shared block must be the same in every layer of its cycle');
  }
  return stack;
}

/** The first layer whose block differs from the layer whose parameters it reuses, and that layer. */
function sharingMismatch(layers: LayerSpec[], share: number): [number, number] | undefined {
  const shape = (l: LayerSpec) => JSON.stringify({ ...l, index: 0 });
  for (const l of layers) if (l.index >= share && shape(l) !== shape(layers[l.index % share]!)) return [l.index, l.index % share];
  return undefined;
}

function buildBlock(obj: ObjectValue, ctx: EvalContext, env: Env, stack: 'encoder' | 'decoder'): LayerSpec {
  const f = new Fields(obj, 'block', ctx, env.diags);
  const normObj = f.component('norm', kindsWithRole('norm'));
  const norm = normObj ? buildNorm(normObj.obj, normObj.kind, ctx, env.diags) : { kind: 'rmsnorm' as const, eps: 1e-6, bias: false };
  const layer: LayerSpec = {
    index: ctx.layer ?? 0,
    norm,
    residual: f.oneOf('residual', ['pre_norm', 'post_norm', 'parallel'] as const, 'pre_norm'),
    residualScale: f.number('residual_scale', 1),
  };
  const att = f.component('attention', ['attention', 'mla', 'fourier']);
  if (att) layer.attention = buildSelfAttention(att.obj, att.kind, ctx, env);
  const cross = f.component('cross_attention', ['attention']);
  if (cross) {
    if (stack === 'encoder') f.fail('cross_attention', 'an encoder block cannot have cross_attention', 'cross-attention reads the encoder output; put it in the decoder');
    else layer.crossAttention = buildAttention(cross.obj, ctx, env, true);
  }
  const ffn = f.component('ffn', ['ffn', 'moe', 'peer']);
  if (ffn) layer.ffn = ffn.kind === 'moe' ? buildMoe(ffn.obj, ctx, env) : ffn.kind === 'peer' ? buildPeer(ffn.obj, ctx, env.diags) : buildFfn(ffn.obj, ctx, env.diags);
  if (layer.residual === 'parallel' && !(layer.attention && layer.ffn)) {
    f.fail('residual', 'residual: parallel needs both attention and ffn');
  }
  // A parallel block computes attention and FFN from one input; it has no place for cross-attention (lowering
  // would drop it silently).
  if (layer.residual === 'parallel' && layer.crossAttention) {
    f.fail('residual', 'residual: parallel cannot have cross_attention', 'a parallel block computes attention and ffn from the same input; use pre_norm or post_norm in a decoder with cross_attention');
  }
  return layer;
}

/** The block's attention field: attention, MLA, or FNet's parameter-free Fourier mixing (which has no fields). */
function buildSelfAttention(obj: ObjectValue, kind: string, ctx: EvalContext, env: Env): AttentionSpec | MlaSpec | FourierSpec {
  if (kind === 'fourier') {
    new Fields(obj, 'fourier', ctx, env.diags); // reports any field: fourier has none
    return { kind: 'fourier' };
  }
  return kind === 'mla' ? buildMla(obj, ctx, env) : buildAttention(obj, ctx, env, false);
}

export function buildNorm(obj: ObjectValue, kind: string, ctx: EvalContext, diags: Diagnostic[]): NormSpec {
  const f = new Fields(obj, kind, ctx, diags);
  if (kind === 'layernorm') return { kind: 'layernorm', eps: f.number('eps', 1e-5, { positive: true }), bias: f.bool('bias', true) };
  return { kind: 'rmsnorm', eps: f.number('eps', 1e-6, { positive: true }), bias: false };
}

function buildRope(obj: ObjectValue, ctx: EvalContext, diags: Diagnostic[], headDim: number): RopeSpec {
  const f = new Fields(obj, 'rope', ctx, diags);
  const fraction = f.number('fraction', 1, { positive: true });
  let rotaryDim = Math.round(headDim * fraction);
  if (fraction > 1 || rotaryDim % 2 !== 0 || rotaryDim === 0) {
    f.fail('fraction', `rope.fraction ${fraction} of head_dim ${headDim} gives ${headDim * fraction} rotated dimensions; it must be an even number between 2 and head_dim`);
    rotaryDim = headDim - (headDim % 2);
  }
  return { theta: f.number('theta', 10000, { positive: true }), rotaryDim, interleaved: f.bool('interleaved', false) };
}

function buildAttention(obj: ObjectValue, ctx: EvalContext, env: Env, cross: boolean): AttentionSpec {
  const f = new Fields(obj, 'attention', ctx, env.diags);
  const heads = f.int('heads', 1);
  const kvHeads = f.int('kv_heads', heads);
  if (heads % kvHeads !== 0) {
    f.fail('kv_heads', `kv_heads (${kvHeads}) must divide heads (${heads})`, 'each key/value head serves heads / kv_heads query heads');
  }
  let headDim = env.dModel / heads;
  if (f.has('head_dim')) {
    headDim = f.int('head_dim', 1);
  } else if (!Number.isInteger(headDim)) {
    f.fail('heads', `heads (${heads}) does not divide d_model (${env.dModel}); set head_dim explicitly`, `d_model / heads = ${(env.dModel / heads).toFixed(3)}`);
    headDim = Math.max(1, Math.floor(headDim));
  }
  const causal = f.bool('causal', !cross && true);
  const spec: AttentionSpec = {
    kind: 'attention', heads, kvHeads, headDim, causal: cross ? false : causal,
    qkvBias: f.bool('bias', false), outBias: f.bool('out_bias', false),
    scale: f.number('scale', headDim ** -0.5), cross,
  };
  if (cross && causal && f.has('causal')) f.fail('causal', 'cross-attention cannot be causal: every decoder position sees the whole encoder output');
  const rope = f.component('rope', ['rope']);
  if (rope) spec.rope = buildRope(rope.obj, ctx, env.diags, headDim);
  const rb = f.component('relative_bias', ['relative_bias']);
  if (rb) {
    const r = new Fields(rb.obj, 'relative_bias', ctx, env.diags);
    const rel: RelativeBiasSpec = {
      buckets: r.int('buckets', 32), maxDistance: r.int('max_distance', 128),
      bidirectional: r.bool('bidirectional', !spec.causal), shared: r.bool('shared', true),
    };
    if (rel.bidirectional && rel.buckets % 2 !== 0) r.fail('buckets', `a bidirectional relative bias splits its buckets in two halves; ${rel.buckets} is odd`);
    spec.relativeBias = rel;
  }
  const ex = f.value('experts');
  if (ex && ex.t !== 'none') {
    const experts = f.int('experts', 1);
    const topK = f.int('top_k', 2);
    if (topK > experts) f.fail('top_k', `top_k (${topK}) is larger than the number of experts (${experts})`, 'a head cannot use more maps than it has');
    if (spec.qkvBias || spec.outBias) f.fail(spec.qkvBias ? 'bias' : 'out_bias', 'SwitchHead attention (experts) has no biases on its value and output maps', 'leave bias and out_bias out');
    spec.experts = { experts, topK };
  } else if (f.has('top_k')) {
    f.fail('top_k', 'attention.top_k applies to SwitchHead attention: set experts too');
  }
  const qk = f.component('qk_norm', kindsWithRole('norm'));
  if (qk) spec.qkNorm = { norm: buildNorm(qk.obj, qk.kind, ctx, env.diags), scope: f.oneOf('qk_norm_scope', ['full', 'head'] as const, 'full') };
  return spec;
}

function buildMla(obj: ObjectValue, ctx: EvalContext, env: Env): MlaSpec {
  const f = new Fields(obj, 'mla', ctx, env.diags);
  const qkNopeDim = f.int('qk_nope_dim', 1);
  const qkRopeDim = f.int('qk_rope_dim', 2);
  const rope = f.component('rope', ['rope']);
  const norm = f.component('norm', kindsWithRole('norm'));
  return {
    kind: 'mla', heads: f.int('heads', 1), qLoraRank: f.int('q_lora_rank', 0, 0), kvLoraRank: f.int('kv_lora_rank', 1),
    qkNopeDim, qkRopeDim, vDim: f.int('v_dim', 1), causal: f.bool('causal', true),
    scale: f.number('scale', (qkNopeDim + qkRopeDim) ** -0.5),
    rope: rope ? buildRope(rope.obj, ctx, env.diags, qkRopeDim) : { theta: 10000, rotaryDim: qkRopeDim, interleaved: false },
    norm: norm ? buildNorm(norm.obj, norm.kind, ctx, env.diags) : { kind: 'rmsnorm', eps: 1e-6, bias: false },
  };
}

const activationTable: Record<string, { act: Activation; gated: boolean }> = {
  relu: { act: 'relu', gated: false }, gelu: { act: 'gelu', gated: false }, gelu_tanh: { act: 'gelu_tanh', gated: false },
  silu: { act: 'silu', gated: false }, swiglu: { act: 'silu', gated: true }, geglu: { act: 'gelu', gated: true },
  reglu: { act: 'relu', gated: true },
};

function buildFfn(obj: ObjectValue, ctx: EvalContext, diags: Diagnostic[]): FfnSpec {
  const f = new Fields(obj, 'ffn', ctx, diags);
  const act = f.oneOf('act', Object.keys(activationTable), 'relu');
  return { kind: 'ffn', hidden: f.int('hidden', 1), ...activationTable[act]!, bias: f.bool('bias', false) };
}

function buildMoe(obj: ObjectValue, ctx: EvalContext, env: Env): MoeSpec {
  const f = new Fields(obj, 'moe', ctx, env.diags);
  const baseExperts = f.int('experts', 1);
  const baseK = f.int('top_k', 1);
  const granularity = f.int('granularity', 1);
  const expertObj = f.component('expert', ['ffn']);
  const expert = expertObj ? buildFfn(expertObj.obj, ctx, env.diags) : { kind: 'ffn' as const, hidden: 1, act: 'relu' as const, gated: false, bias: false };
  if (expert.hidden % granularity !== 0) {
    f.fail('granularity', `granularity ${granularity} does not divide the expert hidden size ${expert.hidden}`, 'fine-grained segmentation splits each expert into granularity experts of hidden / granularity');
  }
  const routerObj = f.component('router', kindsWithRole('router'));
  const router: RouterSpec = routerObj ? buildRouter(routerObj.obj, routerObj.kind, ctx, env.diags) : { kind: 'softmax', normalize: false, bias: false, second: 'always', seed: 0 };
  const experts = baseExperts * granularity;
  const topK = baseK * granularity;
  const usesK = router.kind === 'softmax' || router.kind === 'sigmoid';
  if (usesK && baseK > baseExperts) {
    f.fail('top_k', `top_k (${baseK}) is larger than the number of experts (${baseExperts})`, 'a token cannot be sent to more experts than exist');
  }
  if (router.kind === 'softmax' && router.second === 'random' && topK !== 2) {
    f.fail('router', `softmax.second: random routes a top-2 router's second expert; this layer routes top ${topK}${granularity > 1 ? ` (top_k ${baseK} × granularity ${granularity})` : ''}`, 'set top_k: 2, or leave second out');
  }
  if (router.kind === 'sigmoid') {
    if (experts % router.groups !== 0) f.fail('router', `sigmoid.groups (${router.groups}) must divide the number of experts (${experts})`);
    else if (router.topkGroups > router.groups) f.fail('router', `sigmoid.topk_groups (${router.topkGroups}) exceeds groups (${router.groups})`);
    else if (topK > (experts / router.groups) * router.topkGroups) {
      f.fail('router', `top_k (${topK}) exceeds the experts in ${router.topkGroups} of ${router.groups} groups (${(experts / router.groups) * router.topkGroups})`);
    }
  }
  const spec: MoeSpec = {
    kind: 'moe', experts, topK, granularity,
    expert: { ...expert, hidden: Math.max(1, Math.floor(expert.hidden / granularity)) },
    sharedCount: f.int('shared_count', 1), sharedGate: f.bool('shared_gate', false), router,
    auxLossCoef: f.number('aux_loss', 0, { min: 0 }), zLossCoef: f.number('z_loss', 0, { min: 0 }),
    jitter: f.number('jitter', 0, { min: 0 }),
    routerDtype: f.oneOf('router_dtype', ['f32', 'bf16', 'f16'] as const, 'f32'),
  };
  const shared = f.component('shared', ['ffn']);
  if (shared) spec.shared = buildFfn(shared.obj, ctx, env.diags);
  const cf = f.value('capacity_factor');
  if (cf && cf.t !== 'none') {
    const factor = f.number('capacity_factor', 1);
    if (!(factor > 0)) f.fail('capacity_factor', `capacity_factor must be greater than 0, found ${factor}`, 'each expert needs at least one slot; leave it out for dropless routing');
    else spec.capacity = { factor };
  }
  const ec = f.value('expert_capacity');
  if (ec && ec.t !== 'none') spec.capacity = { ...spec.capacity, perExpert: f.int('expert_capacity', 1) };
  if (spec.capacity && !usesK) f.fail(f.has('capacity_factor') ? 'capacity_factor' : 'expert_capacity', `capacity applies to top-k routers, not ${router.kind}`);
  return spec;
}

function buildRouter(obj: ObjectValue, kind: string, ctx: EvalContext, diags: Diagnostic[]): RouterSpec {
  const f = new Fields(obj, kind, ctx, diags);
  switch (kind) {
    case 'sigmoid':
      return {
        kind: 'sigmoid', normalize: f.bool('normalize', true), scoreBias: f.bool('score_bias', true),
        groups: f.int('groups', 1), topkGroups: f.int('topk_groups', 1), scale: f.number('scale', 1, { positive: true }),
      };
    case 'expert_choice': return {
      kind: 'expert_choice', capacityFactor: f.number('capacity_factor', 1, { positive: true }),
      score: f.oneOf('score', ['softmax', 'sigmoid'] as const, 'softmax'),
    };
    case 'hash': return { kind: 'hash', method: f.oneOf('method', ['modulo', 'random'] as const, 'random'), seed: f.int('seed', 0, 0) };
    case 'soft': return { kind: 'soft', slotsPerExpert: f.int('slots', 1) };
    case 'vocab': return { kind: 'vocab', seed: f.int('seed', 0, 0) };
    default: return {
      kind: 'softmax', normalize: f.bool('normalize', false), bias: f.bool('bias', false),
      second: f.oneOf('second', ['always', 'random'] as const, 'always'), seed: f.int('seed', 0, 0),
    };
  }
}

function buildCheckpoint(obj: ObjectValue, diags: Diagnostic[]): CheckpointSpec {
  const f = new Fields(obj, 'checkpoint', {}, diags);
  const tensors: TensorMapping[] = [];
  const map = f.value('tensors');
  if (map && map.t === 'object' && !map.type) {
    for (const [key, lf] of map.fields) {
      const e = lf.expr;
      if (e.kind === 'string') {
        tensors.push({ from: key, to: e.value, span: e.span });
        continue;
      }
      // { tensor: "name", chunk: i, of: n, axis: a } takes one of n equal chunks of a fused tensor.
      if (e.kind === 'object' && !e.type) {
        const fields = new Map(e.fields.map((x) => [x.key.name, x.value]));
        const tensor = fields.get('tensor');
        const ints = ['chunk', 'of', 'axis'].map((k) => fields.get(k));
        const unknown = e.fields.find((x) => !['tensor', 'chunk', 'of', 'axis'].includes(x.key.name));
        if (unknown) {
          diags.push(error(`unknown field '${unknown.key.name}' in a checkpoint chunk`, unknown.key.span, 'the fields are: tensor, chunk, of, axis'));
          continue;
        }
        if (tensor?.kind === 'string' && ints.every((x) => x?.kind === 'number' && Number.isInteger(x.value) && x.value >= 0)) {
          const [index, of, axis] = ints.map((x) => (x as { value: number }).value) as [number, number, number];
          if (index >= of) diags.push(error(`chunk ${index} of ${of} does not exist`, e.span));
          else tensors.push({ from: key, to: tensor.value, chunk: { index, of, axis }, span: e.span });
          continue;
        }
      }
      diags.push(error(`checkpoint entry '${key}' must be a tensor name or { tensor: "name", chunk: i, of: n, axis: a }`, e.span));
    }
  } else if (map) {
    f.fail('tensors', 'checkpoint.tensors must be a map { "moec name": "checkpoint name", … }');
  }
  return { format: f.string('format', 'safetensors'), tensors };
}
