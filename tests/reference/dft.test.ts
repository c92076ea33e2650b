// The dft op on hand-computed values, and FNet's Fourier sublayer (compiler/lower/fourier.ts: DFT matrices and four
// matmuls) against a naive 2-D DFT, on the reference executor after every pass and on the kernel IR's interpreter.
import { describe, expect, it } from 'vitest';
import type { Attr } from '../../compiler/ir/types.ts';
import { runProgram } from '../../compiler/kernel/interpret.ts';
import { scheduleGraph } from '../../compiler/kernel/schedule.ts';
import { GraphBuilder } from '../../compiler/lower/builder.ts';
import { lowerFourier } from '../../compiler/lower/fourier.ts';
import { runPipeline } from '../../compiler/passes/pipeline.ts';
import { execute, kernels, mulberry32, type Tensor } from '../../runtime/reference/index.ts';

function dft(attrs: Record<string, Attr>, sizes: Record<string, number> = {}): Tensor {
  return kernels.dft!([], attrs, { sizes, outShapes: [] })[0]!;
}

const close = (got: ArrayLike<number>, want: number[], digits = 6) => {
  expect(got).toHaveLength(want.length);
  want.forEach((w, i) => expect(got[i]!, `element ${i}`).toBeCloseTo(w, digits));
};

describe('dft', () => {
  it('n = 4: cos and sin of 2π·jk/4', () => {
    const c = dft({ n: 4, part: 'cos' });
    expect(c.shape).toEqual([4, 4]);
    close(c.data, [1, 1, 1, 1, 1, 0, -1, 0, 1, -1, 1, -1, 1, 0, -1, 0]);
    close(dft({ n: 4, part: 'sin' }).data, [0, 0, 0, 0, 0, 1, 0, -1, 0, 0, 0, 0, 0, -1, 0, 1]);
  });

  it('takes a symbolic n and refuses another part', () => {
    expect(dft({ n: 'seq', part: 'cos' }, { seq: 3 }).shape).toEqual([3, 3]);
    expect(() => dft({ n: 4, part: 'tan' })).toThrow(/part must be cos or sin/);
  });

  it('reduces jk mod n first, so a long sequence keeps its angles exact', () => {
    // j = k = 999 at n = 1000: jk = 998001 ≡ 1, the angle 2π/1000 (not 2π·998001/1000, which float32 would blur).
    const c = dft({ n: 1000, part: 'sin' });
    expect(c.data[1000 * 1000 - 1]).toBeCloseTo(Math.sin((2 * Math.PI) / 1000), 7);
  });
});

/** Re(Σ_{m,e} x[m, e] · e^{-2πi(l·m/L + d·e/D)}) = Σ x[m, e] · cos(2π(l·m/L + d·e/D)), for each batch row. */
function naiveFourier(x: Float32Array, batch: number, L: number, D: number): Float64Array {
  const y = new Float64Array(batch * L * D);
  for (let b = 0; b < batch; b++) {
    for (let l = 0; l < L; l++) {
      for (let d = 0; d < D; d++) {
        let acc = 0;
        for (let m = 0; m < L; m++) {
          for (let e = 0; e < D; e++) acc += x[(b * L + m) * D + e]! * Math.cos(2 * Math.PI * ((l * m) / L + (d * e) / D));
        }
        y[(b * L + l) * D + d] = acc;
      }
    }
  }
  return y;
}

describe('the fourier sublayer', () => {
  const [batch, seq, D] = [2, 6, 8];
  const b = new GraphBuilder('fourier');
  b.output('y', lowerFourier(b, { x: b.input('x', 'f32', ['batch', 'seq', D]), len: 'seq' }, { kind: 'fourier' }, D));
  const graph = runPipeline(b.graph());
  const rand = mulberry32(7);
  const x = Float32Array.from({ length: batch * seq * D }, () => rand() * 2 - 1);
  const want = naiveFourier(x, batch, seq, D);
  const sizes = { batch, seq };
  const maxError = (got: ArrayLike<number>) => Math.max(...Array.from(want, (w, i) => Math.abs(got[i]! - w)));

  it('is dft and matmul ops, no parameters', () => {
    expect(graph.params).toHaveLength(0);
    expect(graph.nodes.filter((n) => n.op === 'dft').map((n) => `${String(n.attrs.n)}:${String(n.attrs.part)}`).sort()).toEqual(['8:cos', '8:sin', 'seq:cos', 'seq:sin']);
    expect(graph.nodes.filter((n) => n.op === 'matmul')).toHaveLength(4);
  });

  it('equals the real part of the naive 2-D DFT on the reference executor, after every pass', () => {
    const out = execute(graph, () => { throw new Error('no params'); }, { x: { dtype: 'f32', shape: [batch, seq, D], data: x } }, sizes);
    expect(out.outputs.y!.shape).toEqual([batch, seq, D]);
    expect(maxError(out.outputs.y!.data)).toBeLessThan(1e-5);
  });

  it('equals it on the kernel IR interpreter', () => {
    const out = runProgram(scheduleGraph(graph), { params: () => { throw new Error('no params'); }, inputs: { x }, sizes });
    expect(maxError(out.y!)).toBeLessThan(1e-5);
  });
});
