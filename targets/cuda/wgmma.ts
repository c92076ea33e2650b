// The Hopper (sm_90a) tensor-core instructions the bf16 matmul uses where a program is rendered for that
// architecture: wgmma.mma_async reads both tiles straight from shared memory through matrix descriptors and runs
// asynchronously across a warpgroup (4 warps), so a block's two warpgroups each multiply a 64 × N tile while the next
// tiles are copied in. Inline PTX in helpers, as in mma-templates.ts.

/** The accumulator operands of one m64nNk16 instruction: N / 2 f32 a thread. */
const operands = (n: number) => Array.from({ length: n / 2 }, (_, r) => r);

/** A product a source uses: its 16-bit type and N (the block's weight rows: 16 … 256, a multiple of 16). */
export interface WgmmaProduct {
  half: 'bf16' | 'f16';
  n: number;
}

/** The products some code calls (moec_wgmma_<half>_m64n<N>), each once. */
export function wgmmaProducts(code: string): WgmmaProduct[] {
  const ids = new Set([...code.matchAll(/moec_wgmma_(bf16|f16)_m64n(\d+)\(/g)].map((m) => `${m[1]} ${m[2]}`));
  return [...ids].map((id) => ({ half: id.split(' ')[0] as 'bf16' | 'f16', n: Number(id.split(' ')[1]) }));
}

/** The sm_90a helpers for these m64nNk16 products; none for none. */
export function wgmmaHelpers(products: WgmmaProduct[]): string {
  return products.length ? [common, ...products.map((p) => product(p.n, p.half))].join('\n') : '';
}

const common = `// A matrix descriptor of a K-major bf16 tile in shared memory with 128-byte rows (64 k) in the 128-byte swizzle
// (PTX ISA, "Matrix Descriptor Format"): the start address / 16, the leading byte offset (16, unused by a swizzled
// K-major tile), the stride byte offset 1024 / 16 (8 rows of 128 bytes: one swizzle atom), and the swizzle mode.
// A k16 step within the 64-wide tile starts 32 bytes further: the swizzle applies to the address bits.
__device__ __forceinline__ unsigned long long moec_wgmma_desc(moec_shared_addr a) {
  return (unsigned long long)((a & 0x3ffffu) >> 4) | (1ull << 16) | (64ull << 32) | (1ull << 62);
}
__device__ __forceinline__ void moec_wgmma_fence() { asm volatile("wgmma.fence.sync.aligned;" ::: "memory"); }
__device__ __forceinline__ void moec_wgmma_commit() { asm volatile("wgmma.commit_group.sync.aligned;" ::: "memory"); }
// Waits until at most PENDING of the warpgroup's committed wgmma groups are in flight.
template <int PENDING> __device__ __forceinline__ void moec_wgmma_wait() { asm volatile("wgmma.wait_group.sync.aligned %0;" :: "n"(PENDING) : "memory"); }
// Shared memory written by threads (cp.async, stores) made visible to the async proxy wgmma reads it through.
__device__ __forceinline__ void moec_fence_proxy_async() { asm volatile("fence.proxy.async.shared::cta;" ::: "memory"); }
// Keeps the compiler from moving accumulator accesses across an asynchronous product that writes them.
template <int R> __device__ __forceinline__ void moec_wgmma_hold(float (&d)[R]) {
#pragma unroll
  for (int i = 0; i < R; i++) { asm volatile("" : "+f"(d[i]) :: "memory"); }
}`;

function product(n: number, half: 'bf16' | 'f16'): string {
  const regs = operands(n);
  return `// d += a · bᵀ for a 64×16 tile of A and an ${n}×16 one of B, both K-major ${half} in shared memory, f32 accumulators:
// thread t of the warpgroup holds rows 16(t / 32) + (t % 32) / 4 (+ 8 for the odd pairs) at columns 8j + 2(t % 4),
// + 1 in d[4j … 4j + 3] (PTX ISA, "Register Fragment for Matrix D of wgmma .m64nNk16").
__device__ __forceinline__ void moec_wgmma_${half}_m64n${n}(float (&d)[${n / 2}], unsigned long long a, unsigned long long b) {
  asm volatile("{\\n.reg .pred p;\\nsetp.ne.b32 p, %${n / 2 + 2}, 0;\\n"
      "wgmma.mma_async.sync.aligned.m64n${n}k16.f32.${half}.${half} {${regs.map((r) => `%${r}`).join(', ')}}, %${n / 2}, %${n / 2 + 1}, p, 1, 1, 0, 0;\\n}\\n"
      : ${regs.map((r) => `"+f"(d[${r}])`).join(', ')}
      : "l"(a), "l"(b), "r"(1));
}`;
}
