// The wasm target's matrix multiply: C[M, panels p0…p1) = A[M, K] · B, with B pre-packed into column panels of NR
// values (packed once when the weights are loaded, see runtime/wasm/pack.ts). A BLIS-style loop nest (K blocks of
// kc, row blocks of mc packed into MR-interleaved panels, NR-column panels of B) around an MR × NR register tile
// of f32x4 accumulators. The tile sizes follow V8's register budget on x64 (15 usable xmm registers with loads
// hoisted ahead of their uses): 5×8 with mul+add, 6×8 with relaxed-SIMD FMA. bench/wasm-probe/README.md has the
// measurements behind every choice here (no manual K unrolling, load32_splat for A, shrink level 0).
import binaryen from 'binaryen';

type Ref = binaryen.ExpressionRef;

export interface GemmConfig {
  /** Rows of the register tile. */
  mr: number;
  /** f32x4 vectors per tile row: the tile is 4·nrv columns wide (NR). */
  nrv: number;
  kc: number;
  mc: number;
  /** f32x4.relaxed_madd instead of mul + add (relaxed SIMD). */
  fma: boolean;
}

export function gemmConfig(fma: boolean): GemmConfig {
  const mr = fma ? 6 : 5;
  // The row block is a whole number of register tiles, so its packed panels fit the scratch exactly. 192 rows (not
  // 96) cover most experts' token groups in one block, so B streams once per K block: 1249 → 1134 ms of SwiGLU experts.
  return { mr, nrv: 2, kc: 256, mc: mr * Math.floor(192 / mr), fma };
}

/** The panel width NR (columns per packed panel of B). */
export const panelWidth = (c: GemmConfig) => 4 * c.nrv;

/** f32 elements of per-thread scratch one gemm call needs (the packed block of A), for either configuration. */
export const gemmScratch = Math.max(...[false, true].map((fma) => gemmConfig(fma).mc * gemmConfig(fma).kc));

/** Names locals of a function being built; params first. */
class Locals {
  readonly types: number[] = [];
  private readonly index = new Map<string, number>();
  constructor(private readonly m: binaryen.Module, params: string[]) {
    for (const p of params) this.add(p, binaryen.i32);
  }
  private add(name: string, type: number): number {
    this.types.push(type);
    this.index.set(name, this.types.length - 1);
    return this.types.length - 1;
  }
  idx(name: string, type: number = binaryen.i32): number {
    return this.index.get(name) ?? this.add(name, type);
  }
  get(name: string, type: number = binaryen.i32): Ref {
    const i = this.idx(name, type);
    return this.m.local.get(i, this.types[i]!);
  }
  set(name: string, value: Ref, type: number = binaryen.i32): Ref {
    return this.m.local.set(this.idx(name, type), value);
  }
  vars(params: number): number[] {
    return this.types.slice(params);
  }
}

/** while (cond) { body } */
function whileLoop(m: binaryen.Module, label: string, cond: Ref, body: Ref[]): Ref {
  return m.block(`${label}.done`, [m.loop(label, m.block(null, [m.br(`${label}.done`, m.i32.eqz(cond)), ...body, m.br(label)]))]);
}

/** min(x, y) of two i32 values held in locals (select evaluates its operands before the condition). */
function min(m: binaryen.Module, l: Locals, x: Ref, y: Ref, tmp: string): Ref {
  return m.block(null, [l.set(`${tmp}.a`, x), l.set(`${tmp}.b`, y), m.select(m.i32.lt_s(l.get(`${tmp}.a`), l.get(`${tmp}.b`)), l.get(`${tmp}.a`), l.get(`${tmp}.b`))], binaryen.i32);
}

/** uk_<mr>(ap, bp, cp, ldc, kcl, first): C[mr, NR] (+)= Apanel[mr, kcl] · Bpanel[kcl, NR], the tile in registers. */
function microKernel(m: binaryen.Module, c: GemmConfig, mr: number): void {
  const params = ['ap', 'bp', 'cp', 'ldc', 'kcl', 'first'];
  const l = new Locals(m, params);
  const v128 = binaryen.v128;
  const body: Ref[] = [];
  const acc = (r: number, v: number) => `acc${r}.${v}`;
  // Row pointers of C (the leading dimension is a run-time value).
  for (let r = 1; r < mr; r++) body.push(l.set(`cp${r}`, m.i32.add(l.get(r === 1 ? 'cp' : `cp${r - 1}`), l.get('ldc'))));
  const row = (r: number) => l.get(r === 0 ? 'cp' : `cp${r}`);
  const zero = () => m.v128.const([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  const init: Ref[] = [];
  const reload: Ref[] = [];
  for (let r = 0; r < mr; r++)
    for (let v = 0; v < c.nrv; v++) {
      init.push(l.set(acc(r, v), zero(), v128));
      reload.push(l.set(acc(r, v), m.v128.load(16 * v, 16, row(r)), v128));
    }
  body.push(m.if(l.get('first'), m.block(null, init), m.block(null, reload)));
  const madd = (a: Ref, b: Ref, s: Ref): Ref =>
    // binaryen.js has no builder for relaxed SIMD; the C API takes (module, op, a, b, c) and computes a·b + c.
    c.fma ? (binaryen as unknown as { _BinaryenSIMDTernary: (...x: number[]) => Ref })._BinaryenSIMDTernary(m.ptr, (binaryen as unknown as { RelaxedMaddVecF32x4: number }).RelaxedMaddVecF32x4, a, b, s) : m.f32x4.add(s, m.f32x4.mul(a, b));
  const step: Ref[] = [];
  for (let v = 0; v < c.nrv; v++) step.push(l.set(`b${v}`, m.v128.load(16 * v, 16, l.get('bp')), v128));
  for (let r = 0; r < mr; r++) {
    step.push(l.set('a', m.v128.load32_splat(4 * r, 4, l.get('ap')), v128));
    for (let v = 0; v < c.nrv; v++) step.push(l.set(acc(r, v), madd(l.get('a', v128), l.get(`b${v}`, v128), l.get(acc(r, v), v128)), v128));
  }
  step.push(l.set('ap', m.i32.add(l.get('ap'), m.i32.const(4 * c.mr))));
  step.push(l.set('bp', m.i32.add(l.get('bp'), m.i32.const(16 * c.nrv))));
  step.push(l.set('kcl', m.i32.sub(l.get('kcl'), m.i32.const(1))));
  body.push(whileLoop(m, 'k', m.i32.gt_s(l.get('kcl'), m.i32.const(0)), step));
  for (let r = 0; r < mr; r++) for (let v = 0; v < c.nrv; v++) body.push(m.v128.store(16 * v, 16, row(r), l.get(acc(r, v), v128)));
  m.addFunction(`gemm.uk${mr}`, binaryen.createType(params.map(() => binaryen.i32)), binaryen.none, l.vars(params.length), m.block(null, body));
}

/** pack_a(src, dst, rows, kcl, lda): rows of A (stride lda bytes) into panels of MR rows, (r, k) at k·MR + r. */
function packA(m: binaryen.Module, c: GemmConfig): void {
  const params = ['src', 'dst', 'rows', 'kcl', 'lda'];
  const l = new Locals(m, params);
  const MR = c.mr;
  const k1: Ref[] = [
    m.f32.store(0, 4, l.get('d'), m.f32.load(0, 4, l.get('s'))),
    l.set('s', m.i32.add(l.get('s'), m.i32.const(4))),
    l.set('d', m.i32.add(l.get('d'), m.i32.const(MR * 4))),
    l.set('k', m.i32.sub(l.get('k'), m.i32.const(1))),
  ];
  const k4: Ref[] = [
    l.set('t', m.v128.load(0, 4, l.get('s')), binaryen.v128),
    ...[0, 1, 2, 3].map((lane) => m.v128.store32_lane(lane * MR * 4, 4, lane, l.get('d'), l.get('t', binaryen.v128))),
    l.set('s', m.i32.add(l.get('s'), m.i32.const(16))),
    l.set('d', m.i32.add(l.get('d'), m.i32.const(MR * 16))),
    l.set('k', m.i32.sub(l.get('k'), m.i32.const(4))),
  ];
  const body = [
    l.set('r', m.i32.const(0)),
    whileLoop(m, 'rows', m.i32.lt_s(l.get('r'), l.get('rows')), [
      // dst + (r / MR)·kcl·MR·4 + (r % MR)·4
      l.set('d', m.i32.add(l.get('dst'), m.i32.add(m.i32.mul(m.i32.mul(m.i32.div_u(l.get('r'), m.i32.const(MR)), l.get('kcl')), m.i32.const(MR * 4)), m.i32.mul(m.i32.rem_u(l.get('r'), m.i32.const(MR)), m.i32.const(4))))),
      l.set('s', m.i32.add(l.get('src'), m.i32.mul(l.get('r'), l.get('lda')))),
      l.set('k', l.get('kcl')),
      whileLoop(m, 'k4', m.i32.ge_s(l.get('k'), m.i32.const(4)), k4),
      whileLoop(m, 'k1', m.i32.gt_s(l.get('k'), m.i32.const(0)), k1),
      l.set('r', m.i32.add(l.get('r'), m.i32.const(1))),
    ]),
  ];
  m.addFunction('gemm.pack_a', binaryen.createType(params.map(() => binaryen.i32)), binaryen.none, l.vars(params.length), m.block(null, body));
}

/**
 * Adds `gemm(a, b, c, M, K, kb, lda, ldc, p0, p1, scratch)` to the module: C[0…M, p0·NR…p1·NR) = A[M, K] · B[K, panels
 * p0…p1), where panel p of B holds, for every k, the NR values of columns p·NR… at b + (p·kb + k)·NR·4 (kb ≥ K: the
 * panels may be taller than the product uses). Addresses and leading dimensions are in bytes. C must have room for
 * whole panels (the caller pads ragged widths).
 */
export function addGemm(m: binaryen.Module, c: GemmConfig): void {
  for (let mr = 1; mr <= c.mr; mr++) microKernel(m, c, mr);
  packA(m, c);
  const NR = panelWidth(c);
  const params = ['a', 'b', 'c', 'M', 'K', 'kb', 'lda', 'ldc', 'p0', 'p1', 'scratch'];
  const l = new Locals(m, params);
  const i = (n: number) => m.i32.const(n);
  const args = () => [l.get('ap'), l.get('bp'), l.get('cp'), l.get('ldc'), l.get('kcl'), l.get('first')];
  let dispatch: Ref = m.nop();
  for (let mr = c.mr - 1; mr >= 1; mr--) dispatch = m.if(m.i32.eq(l.get('mrl'), i(mr)), m.call(`gemm.uk${mr}`, args(), binaryen.none), dispatch);
  dispatch = m.if(m.i32.eq(l.get('mrl'), i(c.mr)), m.call(`gemm.uk${c.mr}`, args(), binaryen.none), dispatch);
  const irLoop = [
    l.set('ir', i(0)),
    whileLoop(m, 'ir', m.i32.lt_s(l.get('ir'), l.get('mcl')), [
      l.set('mrl', min(m, l, i(c.mr), m.i32.sub(l.get('mcl'), l.get('ir')), 't0')),
      l.set('ap', m.i32.add(l.get('scratch'), m.i32.mul(m.i32.mul(l.get('ir'), l.get('kcl')), i(4)))),
      l.set('cp', m.i32.add(l.get('c'), m.i32.add(m.i32.mul(m.i32.add(l.get('ic'), l.get('ir')), l.get('ldc')), m.i32.mul(l.get('jr'), i(NR * 4))))),
      dispatch,
      l.set('ir', m.i32.add(l.get('ir'), i(c.mr))),
    ]),
  ];
  const jrLoop = [
    l.set('jr', l.get('p0')),
    whileLoop(m, 'jr', m.i32.lt_s(l.get('jr'), l.get('p1')), [
      l.set('bp', m.i32.add(l.get('b'), m.i32.mul(m.i32.add(m.i32.mul(l.get('jr'), l.get('kb')), l.get('pc')), i(NR * 4)))),
      ...irLoop,
      l.set('jr', m.i32.add(l.get('jr'), i(1))),
    ]),
  ];
  const icLoop = [
    l.set('ic', i(0)),
    whileLoop(m, 'ic', m.i32.lt_s(l.get('ic'), l.get('M')), [
      l.set('mcl', min(m, l, i(c.mc), m.i32.sub(l.get('M'), l.get('ic')), 't1')),
      m.call('gemm.pack_a', [m.i32.add(l.get('a'), m.i32.add(m.i32.mul(l.get('ic'), l.get('lda')), m.i32.mul(l.get('pc'), i(4)))), l.get('scratch'), l.get('mcl'), l.get('kcl'), l.get('lda')], binaryen.none),
      ...jrLoop,
      l.set('ic', m.i32.add(l.get('ic'), i(c.mc))),
    ]),
  ];
  const body = [
    l.set('pc', i(0)),
    whileLoop(m, 'pc', m.i32.lt_s(l.get('pc'), l.get('K')), [
      l.set('kcl', min(m, l, i(c.kc), m.i32.sub(l.get('K'), l.get('pc')), 't2')),
      l.set('first', m.i32.eqz(l.get('pc'))),
      ...icLoop,
      l.set('pc', m.i32.add(l.get('pc'), i(c.kc))),
    ]),
  ];
  m.addFunction('gemm', binaryen.createType(params.map(() => binaryen.i32)), binaryen.none, l.vars(params.length), m.block(null, body));
  addGatedSilu(m, c);
}

/** e^x on f32x4: the same reduction and polynomial as the scalar expf of the renderer, in four lanes. */
function expV(m: binaryen.Module, x: Ref, l: Locals): Ref[] {
  const v128 = binaryen.v128;
  const c = (k: number) => m.f32x4.splat(m.f32.const(k));
  const n = () => l.get('e.n', v128);
  const r = () => l.get('e.r', v128);
  let poly: Ref = c(1.9875691500e-4);
  for (const k of [1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1]) poly = m.f32x4.add(m.f32x4.mul(poly, r()), c(k));
  return [
    l.set('e.x', m.f32x4.min(m.f32x4.max(x, c(-87.33654)), c(88.72283)), v128),
    l.set('e.n', m.f32x4.nearest(m.f32x4.mul(l.get('e.x', v128), c(Math.LOG2E))), v128),
    l.set('e.r', m.f32x4.sub(m.f32x4.sub(l.get('e.x', v128), m.f32x4.mul(n(), c(0.693359375))), m.f32x4.mul(n(), c(-2.12194440e-4))), v128),
    // 2^(n-1)·2, built in the exponent bits
    l.set('e.s', m.i32x4.shl(m.i32x4.add(m.i32x4.trunc_sat_f32x4_s(n()), m.i32x4.splat(m.i32.const(126))), m.i32.const(23)), v128),
    l.set('e.y', m.f32x4.mul(m.f32x4.mul(m.f32x4.add(m.f32x4.add(m.f32x4.mul(poly, m.f32x4.mul(r(), r())), r()), c(1)), l.get('e.s', v128)), c(2)), v128),
  ];
}

/**
 * Adds `gemm.gated_silu(c, out, rows, ldc, ldo, c0, c1)`: out[r, n] = silu(g)·u for columns c0 … c1-1 (multiples of 4),
 * where a gated product keeps gate panel p and up panel p side by side (g at column 2p·NR + j, u at (2p+1)·NR + j).
 * Four lanes at a time with a vector exp: the scalar epilogue cost a sixth of the expert FFN's time.
 */
export function addGatedSilu(m: binaryen.Module, c: GemmConfig): void {
  const NR = panelWidth(c);
  const params = ['c', 'out', 'rows', 'ldc', 'ldo', 'c0', 'c1'];
  const l = new Locals(m, params);
  const v128 = binaryen.v128;
  const i = (n: number) => m.i32.const(n);
  // g address: c + r·ldc + ((n / NR)·2·NR + n % NR)·4
  const gAt = m.i32.add(l.get('crow'), m.i32.shl(m.i32.add(m.i32.shl(m.i32.shr_u(l.get('n'), i(Math.log2(NR))), i(Math.log2(2 * NR))), m.i32.and(l.get('n'), i(NR - 1))), i(2)));
  const inner = [
    l.set('ga', gAt),
    l.set('g', m.v128.load(0, 4, l.get('ga')), v128),
    ...expV(m, m.f32x4.neg(l.get('g', v128)), l),
    m.v128.store(0, 4, m.i32.add(l.get('orow'), m.i32.shl(l.get('n'), i(2))), m.f32x4.mul(m.f32x4.div(l.get('g', v128), m.f32x4.add(l.get('e.y', v128), m.f32x4.splat(m.f32.const(1)))), m.v128.load(NR * 4, 4, l.get('ga')))),
    l.set('n', m.i32.add(l.get('n'), i(4))),
  ];
  const body = [
    l.set('r', i(0)),
    whileLoop(m, 'rows', m.i32.lt_s(l.get('r'), l.get('rows')), [
      l.set('crow', m.i32.add(l.get('c'), m.i32.mul(l.get('r'), l.get('ldc')))),
      l.set('orow', m.i32.add(l.get('out'), m.i32.mul(l.get('r'), l.get('ldo')))),
      l.set('n', l.get('c0')),
      whileLoop(m, 'cols', m.i32.lt_s(l.get('n'), l.get('c1')), inner),
      l.set('r', m.i32.add(l.get('r'), i(1))),
    ]),
  ];
  m.addFunction('gemm.gated_silu', binaryen.createType(params.map(() => binaryen.i32)), binaryen.none, l.vars(params.length), m.block(null, body));
}
