// The CUDA C of the bf16 precision mode (handlebars), kept in a module so bundles carry them: the helpers a bf16
// source defines once, and the tensor-core matmul (targets/cuda/mma-gemm.ts fills it in).

/**
 * What every bf16 source defines (plain C++, no PTX): bf16 words read as f32, 16-byte chunks of shared memory, and
 * the swizzle of a tile's chunks. NVRTC compiles with no include path, so neither cuda_bf16.h nor the vector types'
 * headers are used: a bf16 is the raw `unsigned short` whose value is the top half of an f32.
 */
export const bf16Helpers = `// A bf16 word as the f32 it is the top half of.
__device__ __forceinline__ float moec_bf16(unsigned short h) { return __uint_as_float((unsigned)h << 16); }
struct alignas(16) moec_f32x4 { float x, y, z, w; };
struct alignas(16) moec_u32x4 { unsigned x, y, z, w; };
// Chunk c (16 bytes: 8 bf16 of k) of row r of a tile 4 chunks (32 k) wide, XOR-swizzled so that the 8 rows one
// ldmatrix phase reads (one chunk each) and the 8 chunks a quarter-warp stores fall in 8 different 16-byte bank
// groups: row r's chunks are permuted by (r >> 1) & 3, and rows r, r + 1 sit in opposite halves of a 128-byte line.
__device__ __forceinline__ int moec_swizzle(int r, int c) { return r * 4 + (c ^ ((r >> 1) & 3)); }`;

/**
 * The tensor-core instructions as inline PTX (sm_80 and later), each in a helper so the kernel reads as C++; the
 * CPU test of the generated code (tests/helpers/cuda-host.ts) swaps this block for an emulation of each instruction.
 */
export const ptxHelpers = `// Shared-memory addresses as PTX's .shared window takes them (32 bits).
typedef unsigned moec_shared_addr;
__device__ __forceinline__ moec_shared_addr moec_smem(const void* p) {
  moec_shared_addr a;
  asm("{ .reg .u64 t; cvta.to.shared.u64 t, %1; cvt.u32.u64 %0, t; }" : "=r"(a) : "l"(p));
  return a;
}
// Two f32 as a bf16 pair, rounded to nearest even, lo in the low half (PTX ISA, cvt: "the value converted from a
// is stored in the upper half of d").
__device__ __forceinline__ unsigned moec_pack_bf16(float lo, float hi) {
  unsigned r;
  asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(r) : "f"(hi), "f"(lo));
  return r;
}
// 16 bytes from global to shared memory without passing through registers (PTX ISA, cp.async: .cg caches in L2
// only, which suits weights read once per block); bytes = 0 writes zeros (the tile past N or K).
__device__ __forceinline__ void moec_cp_async16(moec_shared_addr dst, const void* src, int bytes) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" :: "r"(dst), "l"(src), "r"(bytes));
}
__device__ __forceinline__ void moec_cp_async_commit() { asm volatile("cp.async.commit_group;"); }
// Waits until at most PENDING of this thread's committed groups are still in flight.
template <int PENDING> __device__ __forceinline__ void moec_cp_async_wait() { asm volatile("cp.async.wait_group %0;" :: "n"(PENDING)); }
// Four 8×8 matrices of 16-bit elements (PTX ISA, ldmatrix): lanes 8j … 8j + 7 give the addresses of matrix j's rows;
// register j of lane l receives row l / 4, elements 2(l % 4) and 2(l % 4) + 1 of matrix j.
__device__ __forceinline__ void moec_ldmatrix_x4(unsigned (&r)[4], moec_shared_addr a) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];" : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(a));
}
// d += a · b for a 16×16 bf16 tile of A (row-major) and a 16×8 one of B (column-major), f32 accumulators (PTX ISA,
// "Matrix Fragments for mma.m16n8k16 with floating point type": lane l holds A rows l/4 and l/4 + 8 at k 2(l%4),
// 2(l%4) + 1 and those + 8; B columns l/4 at the same k; d rows l/4, l/4 + 8, columns 2(l%4), 2(l%4) + 1).
__device__ __forceinline__ void moec_mma_bf16(float (&d)[4], const unsigned (&a)[4], unsigned b0, unsigned b1) {
  asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]) : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}`;

/**
 * A matrix product on tensor cores with bf16 weights (the kernels carrying a `gemm` description, in bf16 mode):
 * out[row, n] = epilogue(Σ_k bf16(x[row, k]) · w[n, k]) with f32 accumulation, for a BM × BN tile per block of
 * WM × WN warps, each warp a (BM/WM) × (BN/WN) sub-tile of m16n8k16 products.
 *
 * K goes in steps of 32 through a STAGES-deep ring of shared-memory tiles, with one barrier a step (CUTLASS's
 * multistage main loop): the weights' tile for step kt + STAGES - 1 is copied by cp.async while step kt is
 * multiplied; x is f32 in memory, so its next tile is loaded into registers before the multiply and converted to
 * bf16 into shared memory after it. Fragments come from shared memory by ldmatrix: an A fragment (16 rows × 16 k)
 * is one x4 load, two n8 B fragments another (the weights are [n][k], which is the .col layout mma wants).
 *
 * A gated product (act(x·wg) ⊙ x·wu) multiplies one tile of interleaved weight rows: of each warp's BN/WN rows, the
 * first half are the gate's and the second the up projection's for the same outputs, so a thread holds v and u of
 * the same element for the epilogue, and the block computes BN/2 outputs with the registers of BN.
 *
 * Grouped products: block axis {{tileAxis}} is the n-th non-empty row tile counted through the experts in order
 * (every warp finds it from the offsets with a prefix sum across its lanes, 32 experts at a time), so no block
 * is spent on an expert's empty tiles; the grid has ⌈rows / BM⌉ + experts of them and the surplus return at once.
 * Element offsets that can pass 2³¹ are 64-bit. With K a multiple of 8, rows are 16-byte aligned and move in 16-byte
 * copies; otherwise element by element (a uniform branch).
 */
export const mmaGemmTemplate = `extern "C" __global__ void __launch_bounds__({{threads}}, {{minBlocks}}) {{entry}}({{#each params}}{{{this}}}, {{/each}}const moec_sizes sizes, const int N, const int K) {
  constexpr int BM = {{bm}};
  constexpr int BN = {{bn}};
  constexpr int BK = 32;
  constexpr int STAGES = {{stages}};
  constexpr int MI = {{mi}};
  constexpr int NI = {{ni}};
  // Tiles of 16-byte chunks (8 bf16 of k), 4 to a row of BK.
  __shared__ moec_u32x4 As[STAGES][BM * 4];
  __shared__ moec_u32x4 Bs[STAGES][BN * 4];
  const int tid = (int)threadIdx.x;
  const int lane = tid & 31;
  const int wm = (tid >> 5) / {{wn}};
  const int wn = (tid >> 5) % {{wn}};
{{#if experts}}
  int expert = -1;
  int r0 = 0;
  int rows = 0;
  int m0 = 0;
  {
    int t = (int)blockIdx.{{tileAxis}};
    for (int e0 = 0; e0 < {{experts}}; e0 += 32) {
      const int l_e = e0 + lane;
      const int start = l_e < {{experts}} ? {{{rowStart}}} : 0;
      const int count = l_e < {{experts}} ? {{{rowCount}}} : 0;
      const int tiles = (count + BM - 1) / BM;
      int through = tiles;
#pragma unroll
      for (int d = 1; d < 32; d <<= 1) {
        const int before = __shfl_up_sync(0xffffffffu, through, d);
        if (lane >= d) { through += before; }
      }
      const unsigned past = __ballot_sync(0xffffffffu, through > t);
      if (past != 0u) {
        const int owner = __ffs((int)past) - 1;
        expert = e0 + owner;
        r0 = __shfl_sync(0xffffffffu, start, owner);
        rows = __shfl_sync(0xffffffffu, count, owner);
        m0 = (t - __shfl_sync(0xffffffffu, through - tiles, owner)) * BM;
        break;
      }
      t -= __shfl_sync(0xffffffffu, through, 31);
    }
  }
  if (expert < 0) { return; }
  const int l_e = expert;
{{else}}
  const int l_e = 0;
  const int r0 = {{{rowStart}}};
  const int rows = {{{rowCount}}};
  const int m0 = (int)blockIdx.{{tileAxis}} * BM;
  if (m0 >= rows) { return; }
{{/if}}
  const int n0 = (int)blockIdx.{{columnAxis}} * {{outCols}};
  const float* __restrict__ x = {{x}} + (long long)r0 * K;
  const unsigned short* __restrict__ w = {{w}} + (long long)l_e * N * K;
{{#if gated}}
  const unsigned short* __restrict__ wu = {{wu}} + (long long)l_e * N * K;
{{/if}}
  const bool vec = (K & 7) == 0;
  const int steps = (K + BK - 1) / BK;
  const moec_shared_addr sA = moec_smem(&As[0][0]);
  const moec_shared_addr sB = moec_smem(&Bs[0][0]);
  float acc[MI][NI][4] = {};
  float xr[{{aChunks}}][8];

  // The weights' tile of step kt into a stage: BN rows of 4 chunks.
  auto loadW = [&](int stage, int kt) {
#pragma unroll
    for (int c = 0; c < {{bChunks}}; c++) {
      const int q = tid + c * {{threads}};
      const int r = q >> 2;
      const int k = kt * BK + (q & 3) * 8;
{{#if gated}}
      const int n = n0 + (r / {{wnt}}) * {{halfWnt}} + r % {{halfWnt}};
      const unsigned short* __restrict__ src = r % {{wnt}} < {{halfWnt}} ? w : wu;
{{else}}
      const int n = n0 + r;
      const unsigned short* __restrict__ src = w;
{{/if}}
      const int chunk = moec_swizzle(r, q & 3);
      if (vec) {
        const bool in = n < N && k < K;
        moec_cp_async16(sB + (stage * BN * 4 + chunk) * 16, in ? src + (long long)n * K + k : src, in ? 16 : 0);
      } else {
        unsigned short h[8];
#pragma unroll
        for (int e = 0; e < 8; e++) { h[e] = n < N && k + e < K ? src[(long long)n * K + k + e] : (unsigned short)0; }
        moec_u32x4 v;
        v.x = h[0] | ((unsigned)h[1] << 16);
        v.y = h[2] | ((unsigned)h[3] << 16);
        v.z = h[4] | ((unsigned)h[5] << 16);
        v.w = h[6] | ((unsigned)h[7] << 16);
        Bs[stage][chunk] = v;
      }
    }
  };
  // x's tile of step kt into registers (f32; zeros past the expert's rows and K).
  auto fetchX = [&](int kt) {
#pragma unroll
    for (int c = 0; c < {{aChunks}}; c++) {
      const int q = tid + c * {{threads}};
      const int r = m0 + (q >> 2);
      const int k = kt * BK + (q & 3) * 8;
      if (vec) {
        moec_f32x4 lo = {0.0f, 0.0f, 0.0f, 0.0f};
        moec_f32x4 hi = lo;
        if (r < rows && k < K) {
          const moec_f32x4* p = reinterpret_cast<const moec_f32x4*>(x + (long long)r * K + k);
          lo = p[0];
          hi = p[1];
        }
        xr[c][0] = lo.x; xr[c][1] = lo.y; xr[c][2] = lo.z; xr[c][3] = lo.w;
        xr[c][4] = hi.x; xr[c][5] = hi.y; xr[c][6] = hi.z; xr[c][7] = hi.w;
      } else {
#pragma unroll
        for (int e = 0; e < 8; e++) { xr[c][e] = r < rows && k + e < K ? x[(long long)r * K + k + e] : 0.0f; }
      }
    }
  };
  // The registers' x tile into a stage, rounded to bf16.
  auto storeX = [&](int stage) {
#pragma unroll
    for (int c = 0; c < {{aChunks}}; c++) {
      const int q = tid + c * {{threads}};
      moec_u32x4 v;
      v.x = moec_pack_bf16(xr[c][0], xr[c][1]);
      v.y = moec_pack_bf16(xr[c][2], xr[c][3]);
      v.z = moec_pack_bf16(xr[c][4], xr[c][5]);
      v.w = moec_pack_bf16(xr[c][6], xr[c][7]);
      As[stage][moec_swizzle(q >> 2, q & 3)] = v;
    }
  };
  // The warp's MI × NI products of one stage, two k16 steps.
  auto multiply = [&](int stage) {
    const moec_shared_addr a = sA + stage * BM * 4 * 16;
    const moec_shared_addr b = sB + stage * BN * 4 * 16;
#pragma unroll
    for (int ks = 0; ks < BK / 16; ks++) {
      unsigned af[MI][4];
      unsigned bf[NI][2];
      // A: lanes 0-15 give rows 0-15 at k 0-7 (matrices 0, 1: a0a1, a2a3), lanes 16-31 the same rows at k 8-15.
#pragma unroll
      for (int i = 0; i < MI; i++) { moec_ldmatrix_x4(af[i], a + moec_swizzle(wm * {{wmt}} + i * 16 + (lane & 15), ks * 2 + (lane >> 4)) * 16); }
      // B: matrices (n 0-7, k 0-7), (n 0-7, k 8-15), (n 8-15, k 0-7), (n 8-15, k 8-15): b0b1, b2b3 of two n8 tiles.
#pragma unroll
      for (int j = 0; j < NI / 2; j++) {
        unsigned t[4];
        moec_ldmatrix_x4(t, b + moec_swizzle(wn * {{wnt}} + j * 16 + (lane & 7) + ((lane >> 4) << 3), ks * 2 + ((lane >> 3) & 1)) * 16);
        bf[2 * j][0] = t[0];
        bf[2 * j][1] = t[1];
        bf[2 * j + 1][0] = t[2];
        bf[2 * j + 1][1] = t[3];
      }
#pragma unroll
      for (int i = 0; i < MI; i++) {
#pragma unroll
        for (int j = 0; j < NI; j++) { moec_mma_bf16(acc[i][j], af[i], bf[j][0], bf[j][1]); }
      }
    }
  };

#pragma unroll
  for (int s = 0; s < STAGES - 1; s++) {
    if (s < steps) { loadW(s, s); }
    moec_cp_async_commit();
  }
  fetchX(0);
  storeX(0);
  for (int kt = 0; kt < steps; kt++) {
    // Step kt's weights have landed (this thread's copies; the barrier makes them everyone's, and x's stores too);
    // after it, no warp still reads the stage step kt - 1 used, which the next copies overwrite.
    moec_cp_async_wait<STAGES - 2>();
    __syncthreads();
    if (kt + STAGES - 1 < steps) { loadW((kt + STAGES - 1) % STAGES, kt + STAGES - 1); }
    moec_cp_async_commit();
    if (kt + 1 < steps) { fetchX(kt + 1); }
    multiply(kt % STAGES);
    if (kt + 1 < steps) { storeX((kt + 1) % STAGES); }
  }

  // Accumulator q of tile (i, j): row lane/4 + 8(q/2), column 2(lane%4) + q%2.
#pragma unroll
  for (int i = 0; i < MI; i++) {
#pragma unroll
    for (int j = 0; j < {{outTiles}}; j++) {
#pragma unroll
      for (int q = 0; q < 4; q++) {
        const int m = m0 + wm * {{wmt}} + i * 16 + (lane >> 2) + (q >> 1) * 8;
        const int l_n = n0 + wn * {{outWnt}} + j * 8 + (lane & 3) * 2 + (q & 1);
        if (m < rows && l_n < N) {
          const int l_row = r0 + m;
          const float l_v = acc[i][j][q];
{{#if gated}}
          const float l_u = acc[i][j + NI / 2][q];
{{/if}}
          {{out}}[(long long)l_row * N + l_n] = {{{epilogue}}};
        }
      }
    }
  }
}
`;
