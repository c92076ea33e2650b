// The WGSL templates (handlebars), kept in a module so bundles carry them.
import Handlebars from 'handlebars';

/** What every shader begins with: its storage buffers in binding order, the sizes uniform, and erf when used. */
const header = `{{#if f16}}
enable f16;
{{/if}}
{{#each buffers}}
@group(0) @binding({{@index}}) var<storage, {{access}}> {{id}}: array<{{type}}>;
{{/each}}
struct Sizes { v: array<vec4<i32>, {{sizeVecs}}> }
@group(0) @binding({{sizesBinding}}) var<uniform> sizes: Sizes;
{{#if erf}}

// erf (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7): WGSL has none.
fn erf_(x: f32) -> f32 {
  let t = 1.0 / (1.0 + 0.3275911 * abs(x));
  let y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * exp(-x * x);
  return select(-y, y, x >= 0.0);
}
{{/if}}
`;
Handlebars.registerPartial('header', header);

/** One kernel: its storage buffers, the sizes uniform, helpers it needs, and the entry point. */
export const kernelTemplate = `// {{name}}{{#if loc}}  ({{loc}}){{/if}}: {{ops}}
{{> header}}

@compute @workgroup_size({{workgroupSize}})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let flat = i32(gid.x + gid.y * groups.x * {{workgroupSize}}u);
{{#each locals}}
  var {{id}}: {{type}};
{{/each}}
{{{body}}}
}
`;

/**
 * A tiled matrix product (the kernels carrying a `gemm` description): output tiles of TM × TN per workgroup of 16×16
 * invocations, PM × PN outputs each in registers (strided by 16, so neighbouring invocations read neighbouring words
 * of workgroup memory), K in steps of BK through workgroup memory (rows padded by 4 words, so the transposing stores
 * of 8 k × 4 rows per 32 invocations fall in 32 different banks); gated products keep a second accumulator.
 * A grouped product's row tiles are packed over the experts: workgroup y is the n-th non-empty row tile counted
 * through the experts in order (invocation 0 walks the offsets), so no workgroup is spent on an empty tile.
 */
export const gemmTemplate = `// {{name}}{{#if loc}}  ({{loc}}){{/if}}: {{ops}} as a tiled matmul, {{tm}} × {{tn}} tiles
{{> header}}

const N = {{N}}i;
const K = {{K}}i;
const TM = {{tm}}i;
const TN = {{tn}}i;
const PM = {{pm}}i;
const PN = {{pn}}i;
const BK = {{bk}}i;
var<workgroup> As: array<array<f32, {{tm}} + 4>, {{bk}}>;
var<workgroup> Bs: array<array<f32, {{tn}} + 4>, {{bk}}>;
{{#if gated}}
var<workgroup> Us: array<array<f32, {{tn}} + 4>, {{bk}}>;
{{/if}}
/** expert, its first row, its row count, the tile's first row within the expert */
var<workgroup> tile: vec4<i32>;

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  if (lid.x == 0u && lid.y == 0u) {
{{#if experts}}
    var t = i32(wid.y);
    var l_e = 0i;
    for (; l_e < {{experts}}i; l_e++) {
      let n = ({{rowCount}} + TM - 1) / TM;
      if (t < n) { break; }
      t -= n;
    }
    tile = select(vec4<i32>(l_e, 0i, 0i, 0i), vec4<i32>(l_e, {{rowStart}}, {{rowCount}}, t * TM), l_e < {{experts}}i);
{{else}}
    let l_e = 0i;
    tile = vec4<i32>(0i, 0i, {{rowCount}}, i32(wid.y) * TM);
{{/if}}
  }
  let info = workgroupUniformLoad(&tile);
  let l_e = info.x;
  let r0 = info.y;
  let rows = info.z;
  let m0 = info.w;
  if (m0 >= rows) { return; }
  let n0 = i32(wid.x) * TN;
  let tx = i32(lid.x);
  let ty = i32(lid.y);
  let wBase = l_e * N * K;
  var acc: array<array<f32, {{pn}}>, {{pm}}>;
{{#if gated}}
  var accU: array<array<f32, {{pn}}>, {{pm}}>;
{{/if}}
  for (var k0 = 0; k0 < K; k0 += BK) {
    for (var i = 0; i < (TM * BK + 255) / 256; i++) {
      let idx = ty * 16 + tx + i * 256;
      let kk = idx % BK;
      let mm = idx / BK;
      let k = k0 + kk;
      let r = m0 + mm;
      if (mm < TM) {
        As[kk][mm] = select(0.0, {{x}}[min((r0 + r) * K + k, i32(arrayLength(&{{x}})) - 1)], r < rows && k < K);
      }
    }
    for (var i = 0; i < TN * BK / 256; i++) {
      let idx = ty * 16 + tx + i * 256;
      let kk = idx % BK;
      let n = n0 + idx / BK;
      let k = k0 + kk;
      let l_wi = min(wBase + n * K + k, {{weights}}i - 1);
      Bs[kk][idx / BK] = select(0.0, {{w}}, n < N && k < K);
{{#if gated}}
      Us[kk][idx / BK] = select(0.0, {{wu}}, n < N && k < K);
{{/if}}
    }
    workgroupBarrier();
    for (var kk = 0; kk < BK; kk++) {
      var a: array<f32, {{pm}}>;
      var b: array<f32, {{pn}}>;
{{#if gated}}
      var u: array<f32, {{pn}}>;
{{/if}}
      for (var i = 0; i < PM; i++) { a[i] = As[kk][ty + 16 * i]; }
      for (var j = 0; j < PN; j++) {
        b[j] = Bs[kk][tx + 16 * j];
{{#if gated}}
        u[j] = Us[kk][tx + 16 * j];
{{/if}}
      }
      for (var i = 0; i < PM; i++) {
        for (var j = 0; j < PN; j++) {
          acc[i][j] = fma(a[i], b[j], acc[i][j]);
{{#if gated}}
          accU[i][j] = fma(a[i], u[j], accU[i][j]);
{{/if}}
        }
      }
    }
    workgroupBarrier();
  }
  for (var i = 0; i < PM; i++) {
    for (var j = 0; j < PN; j++) {
      let l_row = r0 + m0 + ty + 16 * i;
      let l_n = n0 + tx + 16 * j;
      if (m0 + ty + 16 * i < rows && l_n < N) {
        let l_v = acc[i][j];
{{#if gated}}
        let l_u = accU[i][j];
{{/if}}
        {{out}}[l_row * N + l_n] = {{{epilogue}}};
      }
    }
  }
}
`;

/**
 * Fused attention (targets/wgsl/attention.ts): workgroup (query block, head, batch), 64 invocations, one key of
 * each tile per invocation. Per tile: scores s[q] for the invocation's key in registers; the tile's row maxima and
 * sums (by subgroup reductions where the adapter has subgroups, else by QB invocations scanning the tile in
 * workgroup memory); the rescale of the running sums; then P·V into each invocation's value columns.
 */
export const attentionTemplate = `{{#if subgroups}}enable subgroups;
{{/if}}
// {{name}}{{#if loc}}  ({{loc}}){{/if}}: {{ops}} as one fused kernel
{{> header}}

const D = {{D}}i;
const DV = {{DV}}i;
const QB = {{QB}}i;
const KB = {{KB}}i;
const NC = {{NC}}i;
const NEG = -3.4028234663852886e38f;
var<workgroup> Qs: array<f32, {{QB}} * {{D}}>;
var<workgroup> Ps: array<f32, {{QB}} * {{KB}}>;
var<workgroup> mS: array<f32, {{QB}}>;
var<workgroup> lS: array<f32, {{QB}}>;
{{#if subgroups}}
var<workgroup> part: array<f32, {{QB}} * {{KB}}>;
{{else}}
var<workgroup> alphaS: array<f32, {{QB}}>;
{{/if}}

@compute @workgroup_size({{KB}})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32{{#if subgroups}}, @builtin(subgroup_invocation_id) lane: u32, @builtin(subgroup_size) sgSize: u32{{/if}}) {
  let tid = i32(lid);
  let l_b = i32(wid.z);
  let l_h = i32(wid.y);
  let q0 = i32(wid.x) * QB;
  let Sq = {{Sq}};
  let Sk = {{Sk}};
  let l_g = l_h / ({{group}});
  for (var idx = tid; idx < QB * D; idx += KB) {
    let l_qc = min(q0 + idx / D, Sq - 1);
    let l_d = idx % D;
    Qs[idx] = select(0.0, {{qRead}}, q0 + idx / D < Sq);
  }
  if (tid < QB) {
    mS[tid] = NEG;
    lS[tid] = 0.0;
  }
  // The keys the block's last query sees: a causal query i sees keys j <= i + (k_len - q_len).
  let qLast = min(q0 + QB, Sq) - 1;
  let kMax = {{#if causal}}min(Sk, qLast + Sk - Sq + 1){{else}}Sk{{/if}};
  var acc: array<array<f32, {{NC}}>, {{QB}}>;
  workgroupBarrier();
  for (var j0 = 0; j0 < kMax; j0 += KB) {
    let l_j = j0 + tid;
    let l_jc = min(l_j, Sk - 1);
    // (Zeroed explicitly: a declaration without initializer in a loop was seen keeping the last iteration's values.)
    var s = array<f32, {{QB}}>();
    for (var l_d = 0; l_d < D; l_d++) {
      let kv = {{kRead}};
      for (var q = 0; q < QB; q++) {
        s[q] = fma(Qs[q * D + l_d], kv, s[q]);
      }
    }
    for (var q = 0; q < QB; q++) {
      let l_qc = min(q0 + q, Sq - 1);
      let visible = l_j < Sk && q0 + q < Sq{{#if causal}} && l_j <= q0 + q + Sk - Sq{{/if}};
      s[q] = select(NEG, s[q] * {{scale}}{{#if bias}} + {{bias}}{{/if}}, visible);
    }
{{#if subgroups}}
    // Row maxima: a subgroup maximum per row, the subgroups' partial results through workgroup memory (subgroups
    // are consecutive invocations: the runtime checks that before choosing this form).
    for (var q = 0; q < QB; q++) {
      let m = subgroupMax(s[q]);
      if (lane == 0u) { part[q * KB + tid] = m; }
    }
    workgroupBarrier();
    var alpha: array<f32, {{QB}}>;
    var mNew: array<f32, {{QB}}>;
    for (var q = 0; q < QB; q++) {
      var m = mS[q];
      for (var t = 0; t < KB; t += i32(sgSize)) { m = max(m, part[q * KB + t]); }
      mNew[q] = m;
      alpha[q] = exp(mS[q] - m);
      let p = select(0.0, exp(s[q] - m), s[q] > NEG);
      Ps[q * KB + tid] = p;
      s[q] = p;
    }
    workgroupBarrier();
    for (var q = 0; q < QB; q++) {
      let sum = subgroupAdd(s[q]);
      if (lane == 0u) { part[q * KB + tid] = sum; }
    }
    workgroupBarrier();
    if (tid < QB) {
      var sum = 0.0;
      for (var t = 0; t < KB; t += i32(sgSize)) { sum += part[tid * KB + t]; }
      lS[tid] = lS[tid] * alpha[tid] + sum;
      mS[tid] = mNew[tid];
    }
{{else}}
    for (var q = 0; q < QB; q++) { Ps[q * KB + tid] = s[q]; }
    workgroupBarrier();
    // Each of QB invocations folds one row of the tile into its running max and sum.
    if (tid < QB) {
      let mOld = mS[tid];
      var m = mOld;
      for (var t = 0; t < KB; t++) { m = max(m, Ps[tid * KB + t]); }
      var sum = 0.0;
      for (var t = 0; t < KB; t++) {
        let sv = Ps[tid * KB + t];
        let p = select(0.0, exp(sv - m), sv > NEG);
        Ps[tid * KB + t] = p;
        sum += p;
      }
      let a = exp(mOld - m);
      alphaS[tid] = a;
      lS[tid] = lS[tid] * a + sum;
      mS[tid] = m;
    }
    workgroupBarrier();
    var alpha: array<f32, {{QB}}>;
    for (var q = 0; q < QB; q++) { alpha[q] = alphaS[q]; }
{{/if}}
    // P·V: invocation tid owns value columns tid, tid + 64, …
    for (var q = 0; q < QB; q++) {
      for (var c = 0; c < NC; c++) { acc[q][c] *= alpha[q]; }
    }
    let keys = min(KB, kMax - j0);
    for (var t = 0; t < keys; t++) {
      let l_jc = j0 + t;
      for (var c = 0; c < NC; c++) {
        let l_n = tid + KB * c;
        let vv = select(0.0, {{vRead}}, l_n < DV);
        for (var q = 0; q < QB; q++) {
          acc[q][c] = fma(Ps[q * KB + t], vv, acc[q][c]);
        }
      }
    }
    workgroupBarrier();
  }
  for (var q = 0; q < QB; q++) {
    let qi = q0 + q;
    if (qi < Sq) {
      let inv = 1.0 / lS[q];
      for (var c = 0; c < NC; c++) {
        let n = tid + KB * c;
        if (n < DV) { {{out}}[((l_b * Sq + qi) * {{H}} + l_h) * DV + n] = acc[q][c] * inv; }
      }
    }
  }
}
`;
