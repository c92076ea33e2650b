// The CUDA C template of the fused attention (targets/cuda/attention.ts), kept in a module so bundles carry it.

/**
 * Block (query block, head, batch) of 64 threads = two warps, one key of each 64-key tile per thread. Per tile: the
 * scores of the thread's key for the block's QB queries in registers; each row's maximum and sum by a warp's
 * shuffles and one exchange of the two warps' results through shared memory; the running sums rescaled; P·V into
 * the thread's value columns (tid, tid + 64, …).
 */
export const attentionTemplate = `extern "C" __global__ void __launch_bounds__({{KB}}) {{entry}}({{#each params}}{{{this}}}, {{/each}}const moec_sizes sizes) {
  constexpr int D = {{D}};
  constexpr int DV = {{DV}};
  constexpr int QB = {{QB}};
  constexpr int KB = {{KB}};
  constexpr int NC = {{NC}};
  const float NEG = -3.402823466e38f;
  __shared__ float Qs[QB * D];
  __shared__ float Ps[QB * KB];
  __shared__ float part[QB * 2];
  __shared__ float mS[QB];
  __shared__ float lS[QB];
  const int tid = (int)threadIdx.x;
  const int lane = tid & 31;
  const int warp = tid >> 5;
  const int l_b = (int)blockIdx.z;
  const int l_h = (int)blockIdx.y;
  const int q0 = (int)blockIdx.x * QB;
  const int Sq = {{{Sq}}};
  const int Sk = {{{Sk}}};
  const int l_g = l_h / ({{{group}}});
  for (int idx = tid; idx < QB * D; idx += KB) {
    const int l_qc = min(q0 + idx / D, Sq - 1);
    const int l_d = idx % D;
    Qs[idx] = q0 + idx / D < Sq ? {{{qRead}}} : 0.0f;
  }
  if (tid < QB) {
    mS[tid] = NEG;
    lS[tid] = 0.0f;
  }
  // The keys the block's last query sees: a causal query i sees keys j <= i + (k_len - q_len).
  const int qLast = min(q0 + QB, Sq) - 1;
  const int kMax = {{#if causal}}min(Sk, qLast + Sk - Sq + 1){{else}}Sk{{/if}};
  float acc[QB][NC];
#pragma unroll
  for (int q = 0; q < QB; q++)
#pragma unroll
    for (int c = 0; c < NC; c++) acc[q][c] = 0.0f;
  __syncthreads();
  for (int j0 = 0; j0 < kMax; j0 += KB) {
    const int l_j = j0 + tid;
    float s[QB];
#pragma unroll
    for (int q = 0; q < QB; q++) s[q] = 0.0f;
    {
      const int l_jc = min(l_j, Sk - 1);
      for (int l_d = 0; l_d < D; l_d++) {
        const float kv = {{{kRead}}};
#pragma unroll
        for (int q = 0; q < QB; q++) s[q] = fmaf(Qs[q * D + l_d], kv, s[q]);
      }
#pragma unroll
      for (int q = 0; q < QB; q++) {
{{#if bias}}
        const int l_qc = min(q0 + q, Sq - 1);
{{/if}}
        const bool visible = l_j < Sk && q0 + q < Sq{{#if causal}} && l_j <= q0 + q + Sk - Sq{{/if}};
        s[q] = visible ? s[q] * {{{scale}}}{{#if bias}} + {{{bias}}}{{/if}} : NEG;
      }
    }
    // Row maxima: within each warp by shuffles, then the two warps' through shared memory.
#pragma unroll
    for (int q = 0; q < QB; q++) {
      float m = s[q];
#pragma unroll
      for (int o = 16; o > 0; o >>= 1) m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, o));
      if (lane == 0) part[q * 2 + warp] = m;
    }
    __syncthreads();
    float alpha[QB];
    float mNew[QB];
#pragma unroll
    for (int q = 0; q < QB; q++) {
      mNew[q] = fmaxf(mS[q], fmaxf(part[q * 2], part[q * 2 + 1]));
      alpha[q] = expf(mS[q] - mNew[q]);
      const float p = s[q] > NEG ? expf(s[q] - mNew[q]) : 0.0f;
      Ps[q * KB + tid] = p;
      s[q] = p;
    }
    __syncthreads();
#pragma unroll
    for (int q = 0; q < QB; q++) {
      float sum = s[q];
#pragma unroll
      for (int o = 16; o > 0; o >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, o);
      if (lane == 0) part[q * 2 + warp] = sum;
    }
    __syncthreads();
    if (tid < QB) {
#pragma unroll
      for (int q = 0; q < QB; q++) {
        if (q == tid) {
          lS[q] = lS[q] * alpha[q] + part[q * 2] + part[q * 2 + 1];
          mS[q] = mNew[q];
        }
      }
    }
    // P·V: thread tid owns value columns tid, tid + 64, …
#pragma unroll
    for (int q = 0; q < QB; q++)
#pragma unroll
      for (int c = 0; c < NC; c++) acc[q][c] *= alpha[q];
    const int keys = min(KB, kMax - j0);
    for (int t = 0; t < keys; t++) {
      const int l_jc = j0 + t;
#pragma unroll
      for (int c = 0; c < NC; c++) {
        const int l_n = tid + KB * c;
        const float vv = l_n < DV ? {{{vRead}}} : 0.0f;
#pragma unroll
        for (int q = 0; q < QB; q++) acc[q][c] = fmaf(Ps[q * KB + t], vv, acc[q][c]);
      }
    }
    __syncthreads();
  }
#pragma unroll
  for (int q = 0; q < QB; q++) {
    const int qi = q0 + q;
    if (qi < Sq) {
      const float inv = 1.0f / lS[q];
#pragma unroll
      for (int c = 0; c < NC; c++) {
        const int n = tid + KB * c;
        if (n < DV) {{out}}[((l_b * Sq + qi) * ({{{H}}}) + l_h) * DV + n] = acc[q][c] * inv;
      }
    }
  }
}
`;
