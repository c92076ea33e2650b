// Weights in the wasm gemm's layout, made once at load time: each expert's Linear weight w[N, K] becomes column
// panels of NR, panel p holding, for every k, the NR values w[p·NR + j, k] (zero past N). A gated pair
// (gate, up) interleaves its panels, gate p then up p, so one thread's range of panels holds both halves.
import type { ProgramBuffer } from '../../compiler/kernel/ir.ts';

export function packPanels(spec: NonNullable<ProgramBuffer['packed']>, sources: Float32Array[], dst: Float32Array): void {
  const { nr, N, K, experts } = spec;
  const panels = Math.ceil(N / nr);
  const per = sources.length;
  const width = panels * nr * per;
  dst.fill(0);
  for (let e = 0; e < experts; e++) {
    for (let s = 0; s < per; s++) {
      const src = sources[s]!;
      if (src.length !== experts * N * K) throw new Error(`packed weight ${spec.sources[s]}: ${src.length} values, expected ${experts * N * K}`);
      for (let p = 0; p < panels; p++) {
        const base = e * width * K + (p * per + s) * K * nr;
        for (let j = 0; j < nr && p * nr + j < N; j++) {
          const row = (e * N + p * nr + j) * K;
          for (let k = 0; k < K; k++) dst[base + k * nr + j] = src[row + k]!;
        }
      }
    }
  }
}
