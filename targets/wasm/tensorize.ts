// The wasm target's one program rewrite: every kernel the scheduler marked as a matrix product (Kernel.gemm) becomes
// a call of the SIMD `gemm` (targets/wasm/gemm.ts) over weights packed into column panels, followed by an epilogue
// loop nest for what the product's spec adds (bias, activation, gating, residual, ragged widths). The kernel is then
// split across threads by column panels ("units"), so it runs for any row count, one token or a thousand.
import { divDim, mulDims } from '../../compiler/ir/dims.ts';
import type { Dim } from '../../compiler/ir/types.ts';
import { add, bin, i, ivar, letI, load, loadI, loop, mul, size, store, sub } from '../../compiler/kernel/expr.ts';
import type { Expr, GemmSpec, Kernel, KernelBuffer, KernelProgram, ProgramBuffer, Stmt } from '../../compiler/kernel/ir.ts';
import { activationFns } from '../../compiler/kernel/ops/elementwise.ts';
import { attentionKernel } from './attention.ts';

/** The trailing parameters of a threaded kernel: its range of units and its thread's scratch. */
export const threadParams = ['#u0', '#u1', '#scratch'] as const;

const addr = (buffer: string, index: Expr): Expr => ({ k: 'addr', buffer, index, type: 'i32' });
const min = (a: Expr, b: Expr): Expr => bin('min', a, b);

export interface TensorizeOptions {
  /** The gemm's panel width NR. */
  nr: number;
  /** f32 elements of a thread's scratch the gemm uses for its packed rows (at the start of the scratch). */
  gemmScratch: number;
}

export function tensorize(p: KernelProgram, o: TensorizeOptions): KernelProgram {
  const buffers = [...p.buffers];
  const byName = new Map(buffers.map((b) => [b.name, b]));
  const kernels = p.kernels.map((k) => {
    if (k.gemm) return gemmKernel(k, k.gemm, o.nr, buffers, byName, o.gemmScratch);
    if (k.attention) return attentionKernel(k, k.attention, o);
    return k;
  });
  // Weights only the gemm reads (now through their packed copies) and the loop nests' scratch need no room.
  const used = new Set(kernels.flatMap((k) => k.buffers.map((b) => b.name)));
  return { ...p, kernels, buffers: buffers.filter((b) => (b.kind !== 'param' && b.kind !== 'temp') || b.aliasOf !== undefined || used.has(b.name)) };
}

function gemmKernel(k: Kernel, g: GemmSpec, nr: number, buffers: ProgramBuffer[], byName: Map<string, ProgramBuffer>, scratch: number): Kernel {
  const gated = g.weights.length === 2;
  const E = g.experts ?? 1;
  const panels = Math.ceil(g.N / nr);
  const width = panels * nr * (gated ? 2 : 1); // columns of the product before the epilogue
  const packedName = `${g.weights.join('+')}@panels`;
  if (!byName.has(packedName)) {
    const sources = g.weights.map((w) => byName.get(w)!.source);
    const b: ProgramBuffer = { name: packedName, dtype: 'f32', size: E * width * g.K, kind: 'param', source: sources.join('+'), packed: { layout: 'panels', nr, sources, N: g.N, K: g.K, experts: E } };
    buffers.push(b);
    byName.set(packedName, b);
  }
  const epilogue = gated || g.bias !== undefined || g.act !== undefined || g.residual !== undefined || g.N % nr !== 0;
  // The product goes straight into the output when its columns are the output's; otherwise into a scratch buffer.
  const direct = !gated && g.N % nr === 0;
  let c = g.out;
  const local: KernelBuffer[] = [];
  if (!direct) {
    c = `${k.name}.product`;
    buffers.push({ name: c, dtype: 'f32', size: rowsOf(k, g, width), kind: 'temp', source: k.name });
    local.push({ name: c, dtype: 'f32', size: rowsOf(k, g, width), access: 'readwrite' });
  }
  const r0 = g.offsets ? loadI(g.offsets, ivar('e')) : i(0);
  const m = g.offsets ? sub(loadI(g.offsets, add(ivar('e'), i(1))), ivar('r0')) : g.rows;
  const per = gated ? 2 : 1;
  const call: Stmt = {
    k: 'call',
    fn: 'gemm',
    args: [
      addr(g.x, mul(ivar('r0'), i(g.K))),
      addr(packedName, mul(ivar('e'), i(width * g.K))),
      addr(c, mul(ivar('r0'), i(direct ? g.N : width))),
      ivar('m'),
      i(g.K),
      i(g.K),
      i(g.K * 4),
      i((direct ? g.N : width) * 4),
      mul(size('#u0'), i(per)),
      mul(size('#u1'), i(per)),
      size('#scratch'),
    ],
  };
  const body: Stmt[] = [letI('r0', r0), letI('m', m), call];
  if (gated && g.act === 'silu' && g.N % 4 === 0) {
    // The common SwiGLU case: a SIMD epilogue of the target's own.
    body.push({
      k: 'call', fn: 'gemm.gated_silu',
      args: [addr(c, mul(ivar('r0'), i(width))), addr(g.out, mul(ivar('r0'), i(g.N))), ivar('m'), i(width * 4), i(g.N * 4), mul(size('#u0'), i(nr)), min(mul(size('#u1'), i(nr)), i(g.N))],
    });
  } else if (epilogue) {
    const row = add(ivar('r0'), ivar('r'));
    const n = add(ivar('c0'), ivar('j'));
    const ld = direct ? g.N : width;
    let y: Expr;
    if (gated) {
      const at = add(mul(row, i(ld)), add(mul(bin('/', n, i(nr)), i(2 * nr)), bin('%', n, i(nr))));
      const gate = load(c, at);
      y = mul(g.act ? activationFns[g.act]!(gate) : gate, load(c, add(at, i(nr))));
    } else {
      y = load(c, add(mul(row, i(ld)), n));
      if (g.bias) y = add(y, load(g.bias, add(mul(ivar('e'), i(g.N)), n)));
      if (g.act) y = activationFns[g.act]!(y);
    }
    if (g.residual) y = add(y, load(g.residual, add(mul(row, i(g.N)), n)));
    body.push(
      letI('c0', mul(size('#u0'), i(nr))),
      letI('c1', min(mul(size('#u1'), i(nr)), i(g.N))),
      loop('r', ivar('m'), [loop('j', sub(ivar('c1'), ivar('c0')), [store(g.out, add(mul(row, i(g.N)), n), y)])]),
    );
  }
  const reads = new Set([g.x, g.offsets, g.bias, g.residual].filter((x): x is string => x !== undefined));
  const kept = k.buffers.filter((b) => reads.has(b.name) || b.name === g.out);
  const packed: KernelBuffer = { name: packedName, dtype: 'f32', size: E * width * g.K, access: 'read' };
  const { gemm: _spec, ...rest } = k;
  void _spec;
  return { ...rest, buffers: [...kept, packed, ...local], body: g.offsets ? [loop('e', i(E), body)] : [letI('e', i(0)), ...body], threads: { units: panels, scratch: [scratch], work: mulDims(rowsOf(k, g, g.N), g.K * (gated ? 2 : 1)) } };
}


/** Elements of the product buffer: the output's rows times the padded width. */
function rowsOf(k: Kernel, g: GemmSpec, width: number): Dim {
  const rows = divDim(k.buffers.find((b) => b.name === g.out)!.size, g.N);
  if (rows === undefined) throw new Error(`${k.name}: the output's size is not a multiple of ${g.N}`);
  return mulDims(rows, width);
}
