// The components of the language and their fields: the one table the checker validates against
// and the language reference is written from.

export interface FieldSchema {
  type: string;
  default?: string;
  required?: boolean;
  doc: string;
}

export interface KindSchema {
  role: string;
  doc: string;
  fields: Record<string, FieldSchema>;
}

const activations = 'relu | gelu | gelu_tanh | silu | swiglu | geglu | reglu';

export const kinds: Record<string, KindSchema> = {
  model: {
    role: 'model',
    doc: 'The whole network: embeddings, a decoder stack (and an encoder for encoder-decoder models), the output head.',
    fields: {
      vocab: { type: 'int', required: true, doc: 'Vocabulary size.' },
      d_model: { type: 'int', required: true, doc: 'Width of the residual stream.' },
      embedding: { type: 'embedding', default: 'embedding {}', doc: 'Token embedding.' },
      encoder: { type: 'stack | none', default: 'none', doc: 'Encoder stack (bidirectional); its output feeds cross-attention.' },
      decoder: { type: 'stack', required: true, doc: 'Decoder stack (or the only stack of an encoder-only/decoder-only model).' },
      head: { type: 'head', default: 'head {}', doc: 'Output projection to the vocabulary.' },
      checkpoint: { type: 'checkpoint | none', default: 'none', doc: 'How parameters map to tensor names of a checkpoint.' },
    },
  },
  embedding: {
    role: 'embedding',
    doc: 'Token embedding table [vocab, d_model], optionally with learned absolute positions.',
    fields: {
      scale: { type: 'number', default: '1', doc: 'Multiplier of the embedding output (Granite: embedding_multiplier; Gemma: sqrt(d_model)).' },
      positions: { type: 'none | learned', default: 'none', doc: 'Learned absolute position embeddings added to the tokens.' },
      max_positions: { type: 'int', default: '0', doc: 'Rows of the position table when positions: learned.' },
    },
  },
  head: {
    role: 'head',
    doc: 'The output projection (language-model head).',
    fields: {
      tied: { type: 'bool', default: 'false', doc: 'Reuse the embedding table as the output projection.' },
      bias: { type: 'bool', default: 'false', doc: 'Add a bias to the logits.' },
      scale: { type: 'number', default: '1', doc: 'Multiplier of the final hidden state before the projection (T5 tied: d_model ** -0.5; Granite: 1 / logits_scaling).' },
    },
  },
  stack: {
    role: 'stack',
    doc: 'A block repeated `layers` times. Inside the block, `layer` is the index of the layer being built (from 0) and `layers` the depth.',
    fields: {
      layers: { type: 'int', required: true, doc: 'Number of blocks.' },
      block: { type: 'block', required: true, doc: 'The block; its fields may depend on `layer`.' },
      final_norm: { type: 'norm | none', default: 'none', doc: 'Normalisation after the last block.' },
      share: { type: 'int | none', default: 'none', doc: 'Blocks share weights in a cycle of this many: layer i runs with the parameters of layer i mod share (Universal Transformers with share: 1; MoEUT\'s layer groups, Csordás et al. 2024).' },
    },
  },
  block: {
    role: 'block',
    doc: 'One transformer layer: attention, optional cross-attention, and a feed-forward part (dense or MoE), each a residual branch.',
    fields: {
      norm: { type: 'norm', required: true, doc: 'Normalisation applied to each branch (before it for pre_norm, after the residual add for post_norm).' },
      attention: { type: 'attention | mla | fourier | none', default: 'none', doc: 'Self-attention, or a token-mixing sublayer in its place (fourier).' },
      cross_attention: { type: 'attention | none', default: 'none', doc: "Attention over the encoder's output (decoder of an encoder-decoder model)." },
      ffn: { type: 'ffn | moe | peer | none', default: 'none', doc: 'Feed-forward branch: a dense FFN, a mixture of experts or a PEER layer.' },
      residual: { type: 'pre_norm | post_norm | parallel', default: 'pre_norm', doc: 'Where the norm sits; parallel computes attention and FFN from the same input (GPT-J).' },
      residual_scale: { type: 'number', default: '1', doc: 'Multiplier of each branch before the residual add (Granite: residual_multiplier).' },
    },
  },
  rmsnorm: {
    role: 'norm',
    doc: 'Root-mean-square normalisation (Zhang & Sennrich 2019): x / sqrt(mean(x²) + eps) · w. T5\'s LayerNorm is this.',
    fields: { eps: { type: 'number', default: '1e-6', doc: 'Added to the mean square.' } },
  },
  layernorm: {
    role: 'norm',
    doc: 'Layer normalisation (Ba et al. 2016): (x - mean) / sqrt(var + eps) · w + b.',
    fields: {
      eps: { type: 'number', default: '1e-5', doc: 'Added to the variance.' },
      bias: { type: 'bool', default: 'true', doc: 'Learned additive bias.' },
    },
  },
  attention: {
    role: 'attention',
    doc: 'Multi-head attention (Vaswani et al. 2017); kv_heads < heads gives grouped-query attention (Ainslie et al. 2023), kv_heads = 1 multi-query (Shazeer 2019).',
    fields: {
      heads: { type: 'int', required: true, doc: 'Query heads.' },
      kv_heads: { type: 'int', default: 'heads', doc: 'Key/value heads; must divide heads.' },
      head_dim: { type: 'int', default: 'd_model / heads', doc: 'Width of one head.' },
      causal: { type: 'bool', default: 'true', doc: 'Mask future positions.' },
      bias: { type: 'bool', default: 'false', doc: 'Bias on the q, k, v projections.' },
      out_bias: { type: 'bool', default: 'false', doc: 'Bias on the output projection.' },
      scale: { type: 'number', default: 'head_dim ** -0.5', doc: 'Multiplier of q·k (T5 uses 1).' },
      rope: { type: 'rope | none', default: 'none', doc: 'Rotary position embedding.' },
      relative_bias: { type: 'relative_bias | none', default: 'none', doc: 'T5 relative position bias added to the scores.' },
      qk_norm: { type: 'norm | none', default: 'none', doc: 'Normalise q and k before the scores (OLMoE, Qwen3).' },
      qk_norm_scope: { type: 'full | head', default: 'full', doc: 'qk_norm over the whole projection (OLMoE) or each head (Qwen3).' },
      experts: { type: 'int | none', default: 'none', doc: 'SwitchHead (Csordás et al. 2024): each head\'s value and output projections become mixtures of this many maps, chosen per token by a sigmoid router.' },
      top_k: { type: 'int', default: '2', doc: 'Maps per head and token when experts is set.' },
    },
  },
  mla: {
    role: 'attention',
    doc: 'Multi-head latent attention (DeepSeek-V2, §2.1): low-rank compressed queries and keys/values, with a decoupled rotary part.',
    fields: {
      heads: { type: 'int', required: true, doc: 'Heads.' },
      q_lora_rank: { type: 'int', default: '0', doc: 'Rank of the query compression (0: a full query projection).' },
      kv_lora_rank: { type: 'int', required: true, doc: 'Rank of the joint key/value compression.' },
      qk_nope_dim: { type: 'int', required: true, doc: 'Per-head query/key width without position.' },
      qk_rope_dim: { type: 'int', required: true, doc: 'Per-head query/key width carrying RoPE (the key part is shared by all heads).' },
      v_dim: { type: 'int', required: true, doc: 'Per-head value width.' },
      causal: { type: 'bool', default: 'true', doc: 'Mask future positions.' },
      scale: { type: 'number', default: '(qk_nope_dim + qk_rope_dim) ** -0.5', doc: 'Multiplier of q·k.' },
      rope: { type: 'rope', required: true, doc: 'Rotary embedding of the decoupled part.' },
      norm: { type: 'norm', default: 'rmsnorm {}', doc: 'Normalisation of the compressed latents.' },
    },
  },
  fourier: {
    role: 'attention',
    doc: 'FNet token mixing (Lee-Thorp et al. 2022, §3.2) in place of attention: y = Re(FFT_seq(FFT_hidden(x))), no parameters. moec computes the DFT as matrix products, Re(F_L X F_D) = C_L X C_D − S_L X S_D (O(n²), as FNet does on TPU up to 4096 tokens); it mixes the whole sequence (not causal).',
    fields: {},
  },
  rope: {
    role: 'rope',
    doc: 'Rotary position embedding (Su et al. 2021).',
    fields: {
      theta: { type: 'number', default: '10000', doc: 'Base of the frequencies.' },
      fraction: { type: 'number', default: '1', doc: 'Fraction of each head rotated (partial rotary, e.g. 0.25 in GPT-NeoX 20B).' },
      interleaved: { type: 'bool', default: 'false', doc: 'Rotate adjacent pairs (GPT-J, DeepSeek) instead of halves (Llama, Mixtral).' },
    },
  },
  relative_bias: {
    role: 'relative_bias',
    doc: 'T5 relative position bias (Raffel et al. 2020): a learned scalar per head and log-spaced distance bucket.',
    fields: {
      buckets: { type: 'int', default: '32', doc: 'Number of buckets.' },
      max_distance: { type: 'int', default: '128', doc: 'Distance beyond which all positions share the last bucket.' },
      bidirectional: { type: 'bool', default: 'not causal', doc: 'Separate buckets for keys before and after the query.' },
      shared: { type: 'bool', default: 'true', doc: 'One table in the first layer, reused by the whole stack (T5).' },
    },
  },
  ffn: {
    role: 'ffn',
    doc: 'Position-wise feed-forward network: down(act(up(x))), or down(act(gate(x)) ⊙ up(x)) for gated activations.',
    fields: {
      hidden: { type: 'int', required: true, doc: 'Inner width (d_ff).' },
      act: { type: activations, default: 'relu', doc: 'Activation; swiglu/geglu/reglu are gated (Shazeer 2020).' },
      bias: { type: 'bool', default: 'false', doc: 'Biases on the projections.' },
    },
  },
  moe: {
    role: 'ffn',
    doc: 'A mixture-of-experts feed-forward layer: a router sends each token to some experts and combines their outputs.',
    fields: {
      experts: { type: 'int', required: true, doc: 'Routed experts (before fine-grained segmentation).' },
      top_k: { type: 'int', default: '1', doc: 'Experts per token (before segmentation); ignored by expert_choice and soft routers.' },
      expert: { type: 'ffn', required: true, doc: 'One routed expert.' },
      granularity: { type: 'int', default: '1', doc: 'DeepSeekMoE fine-grained segmentation m: experts × m experts of hidden / m, top_k × m per token.' },
      shared: { type: 'ffn | none', default: 'none', doc: 'Always-on shared expert(s) (DeepSeekMoE).' },
      shared_count: { type: 'int', default: '1', doc: 'Number of shared experts, merged into one FFN of hidden × count.' },
      shared_gate: { type: 'bool', default: 'false', doc: 'Scale the shared experts by sigmoid(x·w) (Qwen2-MoE).' },
      router: { type: 'softmax | sigmoid | expert_choice | hash | soft | vocab', default: 'softmax {}', doc: 'How tokens pick experts.' },
      capacity_factor: { type: 'number | none', default: 'none', doc: 'Switch capacity: ceil(tokens × top_k × factor / experts) slots per expert; overflowing tokens are dropped and pass through the residual.' },
      expert_capacity: { type: 'int | none', default: 'none', doc: 'A fixed number of slots per expert (HF switch_transformers expert_capacity); overrides capacity_factor.' },
      aux_loss: { type: 'number', default: '0', doc: 'Load-balancing loss coefficient (Switch eq. 4).' },
      z_loss: { type: 'number', default: '0', doc: 'Router z-loss coefficient (ST-MoE eq. 5).' },
      jitter: { type: 'number', default: '0', doc: 'Multiplicative input noise during training (Switch); off at inference.' },
      router_dtype: { type: 'f32 | bf16 | f16', default: 'f32', doc: 'Precision of the router (Switch selective precision keeps f32).' },
    },
  },
  peer: {
    role: 'ffn',
    doc: 'PEER (He 2024, "Mixture of A Million Experts", §2): N single-neuron experts σ(u_iᵀx)·v_i retrieved by product keys (Lample et al. 2019); each head scores √N sub-keys per query half, takes the top_k of the top_k × top_k pair sums and weights them by a softmax; u and v are shared by the heads. The query is a plain linear map (the paper batch-normalises it).',
    fields: {
      experts: { type: 'int', required: true, doc: 'Experts N; a perfect square (N = √N × √N product keys).' },
      heads: { type: 'int', default: '8', doc: 'Retrieval heads, each with its own query and top_k experts (the paper: 8).' },
      top_k: { type: 'int', default: '16', doc: 'Experts per head (the paper: 16); at most √experts.' },
      key_dim: { type: 'int', default: '128', doc: 'Query and product-key width d_key (the paper: 128); even, as its halves query the two sub-key tables.' },
      act: { type: 'relu | gelu | gelu_tanh | silu | sigmoid', default: 'relu', doc: 'The experts\' nonlinearity σ.' },
    },
  },
  softmax: {
    role: 'router',
    doc: 'Softmax over expert logits, then the top k (Shazeer et al. 2017; Switch; Mixtral).',
    fields: {
      normalize: { type: 'bool', default: 'false', doc: 'Renormalise the k selected weights to sum to one (Mixtral: true; OLMoE, Qwen1.5-MoE: false).' },
      bias: { type: 'bool', default: 'false', doc: 'Bias on the router projection.' },
      second: { type: 'always | random', default: 'always', doc: 'GShard (Lepikhin et al. 2021, Alg. 1): random keeps a top-2 token\'s second expert only when 2 · g2 / (g1 + g2) beats a seeded uniform coin.' },
      seed: { type: 'int', default: '0', doc: 'Seed of the coins of second: random (token t tosses coin t mod 4096).' },
    },
  },
  sigmoid: {
    role: 'router',
    doc: 'DeepSeek-V3 routing: sigmoid affinities, a selection-only bias for load balance, group-limited top-k, weights normalised and scaled.',
    fields: {
      normalize: { type: 'bool', default: 'true', doc: 'Normalise the selected affinities to sum to one.' },
      score_bias: { type: 'bool', default: 'true', doc: 'Per-expert bias added for selection only (auxiliary-loss-free balancing).' },
      groups: { type: 'int', default: '1', doc: 'Expert groups (n_group).' },
      topk_groups: { type: 'int', default: '1', doc: 'Groups a token may use (topk_group).' },
      scale: { type: 'number', default: '1', doc: 'Multiplier of the routing weights (routed_scaling_factor).' },
    },
  },
  expert_choice: {
    role: 'router',
    doc: 'Expert Choice (Zhou et al. 2022): each expert takes its top capacity_factor × tokens / experts tokens.',
    fields: {
      capacity_factor: { type: 'number', default: '1', doc: 'Average experts per token.' },
      score: { type: 'softmax | sigmoid', default: 'softmax', doc: 'Token scores: a softmax over experts (Zhou et al.), or a sigmoid of each logit, which a single expert needs (CoLT5\'s routed heavy branch, Ainslie et al. 2023).' },
    },
  },
  hash: {
    role: 'router',
    doc: 'Hash Layers (Roller et al. 2021): a fixed hash of the token id picks the expert; no learned router.',
    fields: {
      method: { type: 'modulo | random', default: 'random', doc: 'id mod experts, or a seeded balanced random assignment of ids.' },
      seed: { type: 'int', default: '0', doc: 'Seed of the random assignment.' },
    },
  },
  soft: {
    role: 'router',
    doc: 'Soft MoE (Puigcerver et al. 2023): slots are softmax-weighted averages of all tokens; no dropping.',
    fields: { slots: { type: 'int', default: '1', doc: 'Slots per expert.' } },
  },
  vocab: {
    role: 'router',
    doc: 'Mixture of Word Experts: a fixed vocabulary-to-expert map chooses the expert from the token id.',
    fields: { seed: { type: 'int', default: '0', doc: 'Seed of the map.' } },
  },
  checkpoint: {
    role: 'checkpoint',
    doc: 'How moec parameter names map to checkpoint tensor names; {layer} and {expert} are placeholders, {expert} stacks per-expert tensors.',
    fields: {
      format: { type: 'string', default: '"safetensors"', doc: 'Checkpoint format.' },
      tensors: { type: '{ "moec name": "checkpoint name", … }', required: true, doc: 'The name map.' },
    },
  },
};

export function kindsWithRole(role: string): string[] {
  return Object.keys(kinds).filter((k) => kinds[k]!.role === role);
}
