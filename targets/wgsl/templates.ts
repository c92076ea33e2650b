// The WGSL templates (handlebars), kept in a module so bundles carry them.
import Handlebars from 'handlebars';

/** What every shader begins with: its storage buffers in binding order, the sizes uniform, and erf when used. */
const header = `{{#each buffers}}
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
 * A tiled matrix product (the kernels carrying a `gemm` description): square output tiles of 16·PER per workgroup
 * of 16×16 invocations, PER×PER outputs each in registers (strided by 16, so neighbouring invocations read
 * neighbouring words of workgroup memory), K in steps of BK through workgroup memory (rows padded by 4 words, so the
 * transposing stores of 8 k × 4 rows per 32 invocations fall in 32 different banks); gated products keep a
 * second accumulator. Workgroup z is the expert of a grouped product (its rows from the offsets).
 */
export const gemmTemplate = `// {{name}}{{#if loc}}  ({{loc}}){{/if}}: {{ops}} as a tiled matmul
{{> header}}

const N = {{N}}i;
const K = {{K}}i;
const TILE = {{tile}}i;
const PER = {{per}}i;
const BK = {{bk}}i;
var<workgroup> As: array<array<f32, {{row}}>, {{bk}}>;
var<workgroup> Bs: array<array<f32, {{row}}>, {{bk}}>;
{{#if gated}}
var<workgroup> Us: array<array<f32, {{row}}>, {{bk}}>;
{{/if}}
var<workgroup> tileRows: i32;

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let l_e = i32(wid.z);
  let r0 = {{rowStart}};
  if (lid.x == 0u && lid.y == 0u) { tileRows = {{rowCount}}; }
  let rows = workgroupUniformLoad(&tileRows);
  let m0 = i32(wid.y) * TILE;
  if (m0 >= rows) { return; }
  let n0 = i32(wid.x) * TILE;
  let tx = i32(lid.x);
  let ty = i32(lid.y);
  let wBase = l_e * N * K;
  var acc: array<array<f32, {{per}}>, {{per}}>;
{{#if gated}}
  var accU: array<array<f32, {{per}}>, {{per}}>;
{{/if}}
  for (var k0 = 0; k0 < K; k0 += BK) {
    for (var i = 0; i < TILE * BK / 256; i++) {
      let idx = ty * 16 + tx + i * 256;
      let kk = idx % BK;
      let mm = idx / BK;
      let k = k0 + kk;
      let r = m0 + mm;
      let n = n0 + mm;
      As[kk][mm] = select(0.0, {{x}}[min((r0 + r) * K + k, i32(arrayLength(&{{x}})) - 1)], r < rows && k < K);
      Bs[kk][mm] = select(0.0, {{w}}[min(wBase + n * K + k, i32(arrayLength(&{{w}})) - 1)], n < N && k < K);
{{#if gated}}
      Us[kk][mm] = select(0.0, {{wu}}[min(wBase + n * K + k, i32(arrayLength(&{{wu}})) - 1)], n < N && k < K);
{{/if}}
    }
    workgroupBarrier();
    for (var kk = 0; kk < BK; kk++) {
      var a: array<f32, {{per}}>;
      var b: array<f32, {{per}}>;
{{#if gated}}
      var u: array<f32, {{per}}>;
{{/if}}
      for (var i = 0; i < PER; i++) {
        a[i] = As[kk][ty + 16 * i];
        b[i] = Bs[kk][tx + 16 * i];
{{#if gated}}
        u[i] = Us[kk][tx + 16 * i];
{{/if}}
      }
      for (var i = 0; i < PER; i++) {
        for (var j = 0; j < PER; j++) {
          acc[i][j] = fma(a[i], b[j], acc[i][j]);
{{#if gated}}
          accU[i][j] = fma(a[i], u[j], accU[i][j]);
{{/if}}
        }
      }
    }
    workgroupBarrier();
  }
  for (var i = 0; i < PER; i++) {
    for (var j = 0; j < PER; j++) {
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
