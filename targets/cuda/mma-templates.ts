// The CUDA C of the bf16 precision mode (handlebars), kept in a module so bundles carry them: the helpers a bf16
// source defines once, and the tensor-core matmul (targets/cuda/mma-gemm.ts fills it in).

/**
 * What every bf16 source defines (plain C++, no PTX): bf16 words read as f32, 16-byte chunks of shared memory, and
 * the swizzle of a tile's chunks. NVRTC compiles with no include path, so neither cuda_bf16.h nor the vector types'
 * headers are used: a bf16 is the raw `unsigned short` whose value is the top half of an f32.
 */
export const bf16Helpers = `// A bf16 word as the f32 it is the top half of.
__device__ __forceinline__ float moec_bf16(unsigned short h) { return __uint_as_float((unsigned)h << 16); }
// An f32 as the nearest bf16 (ties to even; a NaN stays a NaN): activations only matmuls read are stored so.
__device__ __forceinline__ unsigned short moec_to_bf16(float f) {
  const unsigned b = __float_as_uint(f);
  if ((b & 0x7fffffffu) > 0x7f800000u) { return (unsigned short)((b >> 16) | 0x40u); }
  return (unsigned short)((b + 0x7fffu + ((b >> 16) & 1u)) >> 16);
}
// An f16 word as the f32 it holds (IEEE binary16: subnormals, ±∞ and NaN included).
__device__ __forceinline__ float moec_f16(unsigned short h) {
  const unsigned s = (unsigned)(h & 0x8000u) << 16;
  const unsigned e = (h >> 10) & 0x1fu;
  const unsigned m = h & 0x3ffu;
  if (e == 0u) { return __uint_as_float(s | __float_as_uint((float)m * 5.9604644775390625e-8f)); }
  if (e == 31u) { return __uint_as_float(s | 0x7f800000u | (m << 13)); }
  return __uint_as_float(s | ((e + 112u) << 23) | (m << 13));
}
// An f32 as the nearest f16 (ties to even; 65520 and past it ±∞; a NaN stays a NaN): f16 programs store activations so.
__device__ __forceinline__ unsigned short moec_to_f16(float f) {
  const unsigned b = __float_as_uint(f);
  const unsigned s = (b >> 16) & 0x8000u;
  const unsigned a = b & 0x7fffffffu;
  if (a > 0x7f800000u) { return (unsigned short)(s | 0x7e00u); }
  if (a >= 0x477ff000u) { return (unsigned short)(s | 0x7c00u); }
  // Below 2^-14: a subnormal, its mantissa the value · 2^24 rounded (an exact scaling, then rint's ties to even).
  if (a < 0x38800000u) { return (unsigned short)(s | (unsigned)rintf(__uint_as_float(a) * 16777216.0f)); }
  const unsigned r = a - (112u << 23);
  return (unsigned short)(s | ((r + 0xfffu + ((r >> 13) & 1u)) >> 13));
}
struct alignas(16) moec_f32x4 { float x, y, z, w; };
struct alignas(16) moec_u32x4 { unsigned x, y, z, w; };
// The byte offset of chunk c (16 bytes: 8 bf16 of k) of row r in a tile of 128-byte rows (64 k), XOR-swizzled: row
// r's 8 chunks are permuted by r % 8, so the 8 rows one ldmatrix phase reads (the same chunk of each) and the 8
// chunks of a row that 8 threads store fall in 8 different 16-byte bank groups. It is the 128-byte swizzle of TMA
// and wgmma's shared-memory descriptors (on 1024-byte aligned tiles), so the same tiles feed both.
__device__ __forceinline__ int moec_swizzle(int r, int c) { return r * 128 + ((c ^ (r & 7)) << 4); }`;

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
// A block's dynamic shared memory (its size is the launch's), and its first 1024-byte aligned byte (the launch asks
// for 1 KiB more than the tiles take).
#define MOEC_DYNAMIC_SHARED(name, bytes) extern __shared__ __align__(1024) unsigned char name[]
__device__ __forceinline__ unsigned char* moec_align1024(unsigned char* p) { return p + ((1024u - (moec_smem(p) & 1023u)) & 1023u); }
// Two f32 as a bf16 pair, rounded to nearest even, lo in the low half (PTX ISA, cvt: "the value converted from a
// is stored in the upper half of d").
__device__ __forceinline__ unsigned moec_pack_bf16(float lo, float hi) {
  unsigned r;
  asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(r) : "f"(hi), "f"(lo));
  return r;
}
// The same as an f16 pair.
__device__ __forceinline__ unsigned moec_pack_f16(float lo, float hi) {
  unsigned r;
  asm("cvt.rn.f16x2.f32 %0, %1, %2;" : "=r"(r) : "f"(hi), "f"(lo));
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
}
// The same for f16 tiles.
__device__ __forceinline__ void moec_mma_f16(float (&d)[4], const unsigned (&a)[4], unsigned b0, unsigned b1) {
  asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]) : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}`;

/**
 * A matrix product on tensor cores with bf16 weights (the kernels carrying a `gemm` description, in bf16 mode):
 * out[row, n] = epilogue(Σ_k bf16(x[row, k]) · w[n, k]) with f32 accumulation, for a BM × BN tile per block.
 *
 * K goes in steps of 64 through a STAGES-deep ring of tiles in dynamic shared memory (128-byte rows, swizzled), with
 * one barrier a step (CUTLASS's multistage main loop): the tiles of step kt + AHEAD are copied by cp.async while step
 * kt is multiplied. x stored as bf16 (an activation only matmuls read) is copied so too; f32 x is loaded into
 * registers a step ahead and rounded to bf16 into shared memory after the multiply.
 *
 * Two ways to multiply a stage, the same tiles either way:
 * - mma.sync (sm_80 and later): WM × WN warps, each a (BM/WM) × (BN/WN) sub-tile of m16n8k16 products, fragments
 *   from shared memory by ldmatrix (the weights are [n][k], which is the .col layout mma wants);
 * - wgmma (sm_90a): BM/64 warpgroups, each a 64 × BN tile in one m64nBNk16 instruction a k16 step, its operands read
 *   by the tensor cores from shared memory through descriptors, asynchronously: the next step's copies are issued
 *   while a step's products run, one product group stays in flight (or none), and the copies run AHEAD =
 *   STAGES - 2 (or 1) steps ahead so that they never overwrite the stage it reads.
 *
 * A gated product (act(x·wg) ⊙ x·wu) multiplies one tile of interleaved weight rows: in each group of GROUP rows
 * (a warp's columns for mma.sync, the whole tile for wgmma), the first half are the gate's and the second the up
 * projection's for the same outputs, so a thread holds v and u of the same element for the epilogue, and the block
 * computes BN/2 outputs with the registers of BN.
 *
 * Blocks: a 1-D grid of column blocks × row tiles, taken in groups of RASTER row tiles (all of them for 0): within a
 * group the blocks walk its row tiles first, then the columns, so the blocks that run together share their row
 * tiles (x stays in L2) and read each weight tile once per group (the weights of a large expert do not fit in L2).
 * Grouped products: a row tile is the n-th non-empty one counted through the experts in order (every warp finds it
 * from the offsets with a prefix sum across its lanes, 32 experts at a time), so no block is spent on an expert's
 * empty tiles; there are ⌈rows / BM⌉ + experts of them and the surplus return at once. Element offsets that can
 * pass 2³¹ are 64-bit. With K a multiple of 8, rows are 16-byte aligned and move in 16-byte copies; otherwise
 * element by element (a uniform branch).
 */
export const mmaGemmTemplate = `extern "C" __global__ void __launch_bounds__({{threads}}, {{minBlocks}}) {{entry}}({{#each params}}{{{this}}}, {{/each}}const moec_sizes sizes, const int N, const int K) {
  constexpr int BM = {{bm}};
  constexpr int BN = {{bn}};
  constexpr int BK = 64;
  constexpr int STAGES = {{stages}};
  constexpr int AHEAD = {{ahead}};
  constexpr int STAGE_BYTES = (BM + BN) * 128;
{{#if gated}}
  constexpr int GROUP = {{group}};
{{/if}}
  MOEC_DYNAMIC_SHARED(moec_dyn, STAGES * STAGE_BYTES + 1024);
  unsigned char* const tiles = moec_align1024(moec_dyn);
  const moec_shared_addr s0 = moec_smem(tiles);
  const int tid = (int)threadIdx.x;
  const int lane = tid & 31;
  // This block's row tile and column block.
  const int columns = (N + {{outCols}} - 1) / {{outCols}};
  int tile;
  int column;
  {
    const int rowTiles = (int)gridDim.x / columns;
    const int per = {{#if raster}}{{raster}}{{else}}rowTiles{{/if}};
    const int g0 = ((int)blockIdx.x / (per * columns)) * per;
    const int inGroup = min(per, rowTiles - g0);
    const int local = (int)blockIdx.x - g0 * columns;
    tile = g0 + local % inGroup;
    column = local / inGroup;
  }
{{#if experts}}
  int expert = -1;
  int r0 = 0;
  int rows = 0;
  int m0 = 0;
  {
    int t = tile;
    for (int e0 = 0; e0 < {{experts}}; e0 += 32) {
      const int l_e = e0 + lane;
      const int start = l_e < {{experts}} ? {{{rowStart}}} : 0;
      const int count = l_e < {{experts}} ? {{{rowCount}}} : 0;
      const int tilesOf = (count + BM - 1) / BM;
      int through = tilesOf;
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
        m0 = (t - __shfl_sync(0xffffffffu, through - tilesOf, owner)) * BM;
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
  const int m0 = tile * BM;
  if (m0 >= rows) { return; }
{{/if}}
  const int n0 = column * {{outCols}};
  const {{#if xBf16}}unsigned short{{else}}float{{/if}}* __restrict__ x = {{x}} + (long long)r0 * K;
  const unsigned short* __restrict__ w = {{w}} + (long long)l_e * N * K;
{{#if gated}}
  const unsigned short* __restrict__ wu = {{wu}} + (long long)l_e * N * K;
{{/if}}
  const bool vec = (K & 7) == 0;
  const int steps = (K + BK - 1) / BK;

  // Elements k … k + 7 of a bf16 row into 16 bytes of shared memory at to: zeros where the row is not in or past
  // K; by cp.async where rows are 16-byte aligned, else element by element.
  auto copyChunk = [&](unsigned char* to, const unsigned short* __restrict__ row, bool in, int k) {
    if (vec) {
      const bool any = in && k < K;
      moec_cp_async16(moec_smem(to), any ? row + k : row, any ? 16 : 0);
    } else {
      unsigned short h[8];
#pragma unroll
      for (int e = 0; e < 8; e++) { h[e] = in && k + e < K ? row[k + e] : (unsigned short)0; }
      moec_u32x4 v;
      v.x = h[0] | ((unsigned)h[1] << 16);
      v.y = h[2] | ((unsigned)h[3] << 16);
      v.z = h[4] | ((unsigned)h[5] << 16);
      v.w = h[6] | ((unsigned)h[7] << 16);
      *reinterpret_cast<moec_u32x4*>(to) = v;
    }
  };
  // The weights' tile of step kt into a stage: BN rows of 8 chunks.
  auto loadW = [&](int stage, int kt) {
    unsigned char* const base = tiles + stage * STAGE_BYTES + BM * 128;
#pragma unroll
    for (int c = 0; c < {{bChunks}}; c++) {
      const int q = tid + c * {{threads}};
      const int r = q >> 3;
      const int k = kt * BK + (q & 7) * 8;
{{#if gated}}
      const int n = n0 + (r / GROUP) * (GROUP / 2) + r % (GROUP / 2);
      const unsigned short* __restrict__ src = r % GROUP < GROUP / 2 ? w : wu;
{{else}}
      const int n = n0 + r;
      const unsigned short* __restrict__ src = w;
{{/if}}
      copyChunk(base + moec_swizzle(r, q & 7), src + (long long)(n < N ? n : 0) * K, n < N, k);
    }
  };
{{#if xBf16}}
  // x's tile of step kt into a stage (zeros past the expert's rows and K).
  auto loadX = [&](int stage, int kt) {
    unsigned char* const base = tiles + stage * STAGE_BYTES;
#pragma unroll
    for (int c = 0; c < {{aChunks}}; c++) {
      const int q = tid + c * {{threads}};
      const int r = m0 + (q >> 3);
      const int k = kt * BK + (q & 7) * 8;
      copyChunk(base + moec_swizzle(q >> 3, q & 7), x + (long long)(r < rows ? r : 0) * K, r < rows, k);
    }
  };
  auto load = [&](int stage, int kt) {
    loadX(stage, kt);
    loadW(stage, kt);
  };
{{else}}
  float xr[{{aChunks}}][8];
  // x's tile of step kt into registers (f32; zeros past the expert's rows and K).
  auto fetchX = [&](int kt) {
#pragma unroll
    for (int c = 0; c < {{aChunks}}; c++) {
      const int q = tid + c * {{threads}};
      const int r = m0 + (q >> 3);
      const int k = kt * BK + (q & 7) * 8;
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
      v.x = moec_pack_{{half}}(xr[c][0], xr[c][1]);
      v.y = moec_pack_{{half}}(xr[c][2], xr[c][3]);
      v.z = moec_pack_{{half}}(xr[c][4], xr[c][5]);
      v.w = moec_pack_{{half}}(xr[c][6], xr[c][7]);
      *reinterpret_cast<moec_u32x4*>(tiles + stage * STAGE_BYTES + moec_swizzle(q >> 3, q & 7)) = v;
    }
  };
  auto load = [&](int stage, int kt) { loadW(stage, kt); };
{{/if}}
{{#if wgmma}}
  // Warpgroup wg multiplies rows 64wg … 64wg + 63 of the tile by all BN weight rows.
  const int wg = tid >> 7;
  float acc[BN / 2] = {};
  auto multiply = [&](int stage) {
    const moec_shared_addr a = s0 + stage * STAGE_BYTES + wg * 64 * 128;
    const moec_shared_addr b = s0 + stage * STAGE_BYTES + BM * 128;
    moec_wgmma_hold(acc);
    moec_wgmma_fence();
#pragma unroll
    for (int ks = 0; ks < BK / 16; ks++) { moec_wgmma_{{half}}_m64n{{bn}}(acc, moec_wgmma_desc(a + ks * 32), moec_wgmma_desc(b + ks * 32)); }
    moec_wgmma_commit();
    moec_wgmma_wait<{{inFlight}}>();
    moec_wgmma_hold(acc);
  };
{{else}}
  constexpr int MI = {{mi}};
  constexpr int NI = {{ni}};
  const int wm = (tid >> 5) / {{wn}};
  const int wn = (tid >> 5) % {{wn}};
  float acc[MI][NI][4] = {};
  // The warp's MI × NI products of one stage, four k16 steps.
  auto multiply = [&](int stage) {
    const moec_shared_addr a = s0 + stage * STAGE_BYTES;
    const moec_shared_addr b = a + BM * 128;
#pragma unroll
    for (int ks = 0; ks < BK / 16; ks++) {
      unsigned af[MI][4];
      unsigned bf[NI][2];
      // A: lanes 0-15 give rows 0-15 at k 0-7 (matrices 0, 1: a0a1, a2a3), lanes 16-31 the same rows at k 8-15.
#pragma unroll
      for (int i = 0; i < MI; i++) { moec_ldmatrix_x4(af[i], a + moec_swizzle(wm * {{wmt}} + i * 16 + (lane & 15), ks * 2 + (lane >> 4))); }
      // B: matrices (n 0-7, k 0-7), (n 0-7, k 8-15), (n 8-15, k 0-7), (n 8-15, k 8-15): b0b1, b2b3 of two n8 tiles.
#pragma unroll
      for (int j = 0; j < NI / 2; j++) {
        unsigned t[4];
        moec_ldmatrix_x4(t, b + moec_swizzle(wn * {{wnt}} + j * 16 + (lane & 7) + ((lane >> 4) << 3), ks * 2 + ((lane >> 3) & 1)));
        bf[2 * j][0] = t[0];
        bf[2 * j][1] = t[1];
        bf[2 * j + 1][0] = t[2];
        bf[2 * j + 1][1] = t[3];
      }
#pragma unroll
      for (int i = 0; i < MI; i++) {
#pragma unroll
        for (int j = 0; j < NI; j++) { moec_mma_{{half}}(acc[i][j], af[i], bf[j][0], bf[j][1]); }
      }
    }
  };
{{/if}}

#pragma unroll
  for (int s = 0; s < AHEAD; s++) {
    if (s < steps) { load(s, s); }
    moec_cp_async_commit();
  }
{{#unless xBf16}}
  fetchX(0);
  storeX(0);
{{/unless}}
  for (int kt = 0; kt < steps; kt++) {
    // Step kt's tiles have landed (this thread's copies; the barrier makes them everyone's, and x's stores too);
    // after it, no warp still reads the stage the copies below overwrite.
    moec_cp_async_wait<AHEAD - 1>();
{{#if wgmma}}
    moec_fence_proxy_async();
{{/if}}
    __syncthreads();
    if (kt + AHEAD < steps) { load((kt + AHEAD) % STAGES, kt + AHEAD); }
    moec_cp_async_commit();
{{#unless xBf16}}
    if (kt + 1 < steps) { fetchX(kt + 1); }
{{/unless}}
    multiply(kt % STAGES);
{{#unless xBf16}}
    if (kt + 1 < steps) { storeX((kt + 1) % STAGES); }
{{/unless}}
  }
{{#if wgmma}}
  moec_wgmma_wait<0>();
  moec_wgmma_hold(acc);

  // Accumulator 4j + q: row 16 · warp + lane/4 + 8(q/2) of the warpgroup's 64, column 8j + 2(lane%4) + q%2.
#pragma unroll
  for (int j = 0; j < {{outTiles}}; j++) {
#pragma unroll
    for (int q = 0; q < 4; q++) {
      const int m = m0 + wg * 64 + ((tid >> 5) & 3) * 16 + (lane >> 2) + (q >> 1) * 8;
      const int l_n = n0 + j * 8 + (lane & 3) * 2 + (q & 1);
      if (m < rows && l_n < N) {
        const int l_row = r0 + m;
        const float l_v = acc[j * 4 + q];
{{#if gated}}
        const float l_u = acc[(j + BN / 16) * 4 + q];
{{/if}}
        {{out}}[(long long)l_row * N + l_n] = {{#if outBf16}}moec_to_{{half}}({{{epilogue}}}){{else}}{{{epilogue}}}{{/if}};
      }
    }
  }
{{else}}

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
          {{out}}[(long long)l_row * N + l_n] = {{#if outBf16}}moec_to_{{half}}({{{epilogue}}}){{else}}{{{epilogue}}}{{/if}};
        }
      }
    }
  }
{{/if}}
}
`;
