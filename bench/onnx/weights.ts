// Deterministic weights for the benchmark's large Mixtral-shaped model, bit-exact with the generator in
// bench/onnx/export_mixtral.py (the device made torch's reference logits and the ONNX graph with it):
//
//   seed(name) = FNV-1a 32-bit of the tensor's HF checkpoint name (UTF-8)
//   h(i)       = fmix32((i * 0x9E3779B1 + seed) mod 2^32)   (murmur3's finaliser), i = flat index
//   u(i)       = h(i) >>> 8                                  (24 bits)
//   v(i)       = (2u - 2^24) / 2^24                          (an exact float32 in [-1, 1))
//   w(i)       = float32(offset + v(i) * scale)              (scale a power of two: one rounding at most)
//
// (scale, offset) by name: *norm.weight (2^-4, 1); embed_tokens (2^-1, 0); lm_head (2^-3, 0); the router
// block_sparse_moe.gate.weight (2^-3, 0); expert w2 (2^-6, 0); everything else (q/k/v/o, w1, w3) (2^-5, 0).

export interface MixtralConfig {
  hidden_size: number;
  intermediate_size: number;
  num_local_experts: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads?: number;
  head_dim?: number | null;
  vocab_size: number;
  [key: string]: unknown;
}

export interface TensorSpec {
  name: string;
  shape: number[];
}

export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(s, 'utf8')) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export function weightScale(name: string): { scale: number; offset: number } {
  if (name.endsWith('norm.weight')) return { scale: 2 ** -4, offset: 1 };
  if (name.includes('embed_tokens')) return { scale: 2 ** -1, offset: 0 };
  if (name.startsWith('lm_head')) return { scale: 2 ** -3, offset: 0 };
  if (name.endsWith('block_sparse_moe.gate.weight')) return { scale: 2 ** -3, offset: 0 };
  if (name.endsWith('.w2.weight')) return { scale: 2 ** -6, offset: 0 };
  return { scale: 2 ** -5, offset: 0 };
}

/** The tensor's values (row-major), as export_mixtral.py's gen_tensor makes them. */
export function genTensor(name: string, numel: number, out = new Float32Array(numel)): Float32Array {
  const seed = fnv1a32(name);
  const { scale, offset } = weightScale(name);
  const k = scale / 16777216; // 2^-24 · scale: a power of two, so v·scale is exact
  for (let i = 0; i < numel; i++) {
    let h = (Math.imul(i, 0x9e3779b1) + seed) >>> 0;
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    const u = (h >>> 8) & 0xffffff;
    out[i] = offset + (2 * u - 16777216) * k; // exact in f64; the store rounds to f32 once
  }
  return out;
}

/** The tensors of an HF Mixtral checkpoint as transformers 5.17 saves it (per-expert w1/w2/w3), sorted by name. */
export function legacyTensorSpecs(c: MixtralConfig): TensorSpec[] {
  const D = c.hidden_size, I = c.intermediate_size, E = c.num_local_experts, L = c.num_hidden_layers, V = c.vocab_size;
  const H = c.num_attention_heads, KV = c.num_key_value_heads ?? H, hd = c.head_dim ?? D / H;
  const t: TensorSpec[] = [
    { name: 'lm_head.weight', shape: [V, D] },
    { name: 'model.embed_tokens.weight', shape: [V, D] },
    { name: 'model.norm.weight', shape: [D] },
  ];
  for (let l = 0; l < L; l++) {
    const p = `model.layers.${l}.`;
    for (let e = 0; e < E; e++) {
      const q = `${p}block_sparse_moe.experts.${e}.`;
      t.push({ name: `${q}w1.weight`, shape: [I, D] }, { name: `${q}w2.weight`, shape: [D, I] }, { name: `${q}w3.weight`, shape: [I, D] });
    }
    t.push(
      { name: `${p}block_sparse_moe.gate.weight`, shape: [E, D] },
      { name: `${p}input_layernorm.weight`, shape: [D] },
      { name: `${p}post_attention_layernorm.weight`, shape: [D] },
      { name: `${p}self_attn.k_proj.weight`, shape: [KV * hd, D] },
      { name: `${p}self_attn.o_proj.weight`, shape: [D, H * hd] },
      { name: `${p}self_attn.q_proj.weight`, shape: [H * hd, D] },
      { name: `${p}self_attn.v_proj.weight`, shape: [KV * hd, D] },
    );
  }
  // Python's sorted() on str compares code points; these names are ASCII, so a plain < comparison matches.
  return t.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

// Recipes (written by export_mixtral.py into mixtral-d1024.external.json): how to build an ONNX
// initializer's bytes from checkpoint tensors. {stack: [block, ...]}: the blocks one after the other;
// a block is {hcat: [part, ...]}: row r of the block is row r of every part side by side; a part is
// {src: checkpoint name, t: transposed?}. A rank-1 tensor is one row.
export interface RecipePart {
  src: string;
  t?: boolean;
}
export interface Recipe {
  stack: { hcat: RecipePart[] }[];
}

/** The initializer's float32 values, built from the generator (tensors are made once per call and part). */
export function materialize(recipe: Recipe, shapes: ReadonlyMap<string, readonly number[]>, numel: number): Float32Array {
  const out = new Float32Array(numel);
  let o = 0;
  for (const block of recipe.stack) {
    const parts = block.hcat.map((p) => {
      const shape = shapes.get(p.src);
      if (!shape) throw new Error(`recipe names an unknown checkpoint tensor ${p.src}`);
      const [r0, c0] = shape.length === 1 ? [1, shape[0]!] : [shape[0]!, shape[1]!];
      const data = genTensor(p.src, r0 * c0);
      return { data, rows: p.t ? c0 : r0, cols: p.t ? r0 : c0, srcCols: c0, t: !!p.t };
    });
    const rows = parts[0]!.rows;
    if (parts.some((p) => p.rows !== rows)) throw new Error('recipe block: parts differ in row count');
    for (let r = 0; r < rows; r++) {
      for (const p of parts) {
        if (!p.t) {
          out.set(p.data.subarray(r * p.cols, (r + 1) * p.cols), o);
        } else {
          for (let j = 0; j < p.cols; j++) out[o + j] = p.data[j * p.srcCols + r]!;
        }
        o += p.cols;
      }
    }
  }
  if (o !== numel) throw new Error(`recipe gives ${o} values, the initializer has ${numel}`);
  return out;
}
