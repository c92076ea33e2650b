// Probe: generate an f32 matmul kernel C[M,N] = A[M,K] · B with wasm SIMD128
// through binaryen's module-building API.
//
//   B layouts:  'kn'     B[K,N] row-major, read directly by the micro-kernel
//               'packed' B pre-packed into column panels of NR = 4·nrv columns,
//                        panel p holds Bp[p][k][0..NR) for all K (made by the
//                        exported pack_b_kn from B[K,N] or pack_b_nk from W[N,K],
//                        i.e. x·Wᵀ as in torch.nn.Linear).
//
// Loop nest (BLIS-like), all loops in wasm:
//   for jc in 0..N step nc            (B block kc×nc)
//     for pc in 0..K step kc          (first pass zeroes the accumulators, later passes add to C)
//       for ic in m0..m1 step mc      (A block mc×kc, optionally packed into MR-row panels in `scratch`)
//         order 'jr-ir': for jr (NR cols) { for ir (MR rows) uk() }   B micro-panel kc×NR stays in L1
//         order 'ir-jr': for ir (MR rows) { for jr (NR cols) uk() }   A micro-panel MR×kc stays in L1
// The micro-kernel uk_{mr}x{nv}(ap, bp, cp, kcl, first) keeps an mr × (4·nv) tile of
// C in mr·nv v128 locals; per k it loads nv B vectors and mr A scalars with
// v128.load32_splat, and does acc = f32x4.add(acc, f32x4.mul(a, b)) (or
// f32x4.relaxed_madd with `fma`). The k loop is unrolled by `unroll`; with
// compile-time strides the unrolled steps use load offset immediates and bump
// each pointer once per group.
//
// Exports: matmul(a, b, c, m0, m1, scratch, N, K)  (all byte addresses; rows
//          [m0, m1) of C are computed, so threads split rows; N and K are read
//          only when runtimeShapes is set), pack_b_kn(src, dst, N, K),
//          pack_b_nk(src, dst, N, K).
//
// binaryen is loaded at run time from PROBE_NODE_MODULES (default
// /tmp/probe/node_modules) because the project does not depend on it yet; the
// real code generator should add `binaryen` to package.json and import it.

import { pathToFileURL } from 'node:url';
import { join } from 'node:path';

/** The binaryen.js namespace object (typed loosely: the project has no binaryen types yet). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Binaryen = any;
type Expr = number;

export async function loadBinaryen(): Promise<Binaryen> {
  const dir = process.env.PROBE_NODE_MODULES ?? new URL('../../node_modules', import.meta.url).pathname;
  const mod = await import(pathToFileURL(join(dir, 'binaryen', 'index.js')).href);
  return mod.default;
}

export interface MatmulGenOptions {
  /** Shapes the kernel is specialised for (M only sizes nothing: rows are a run-time range). */
  N: number;
  K: number;
  bLayout: 'packed' | 'kn';
  /** Micro-tile: mr rows × nrv v128 columns (NR = 4·nrv). */
  mr: number;
  nrv: number;
  kc: number;
  nc: number;
  mc: number;
  unroll: number;
  order: 'jr-ir' | 'ir-jr';
  /** Copy each mc×kc block of A into MR-interleaved panels in `scratch` (contiguous splat loads). */
  packA: boolean;
  /** N and K come from the call's parameters instead of being constants in the code. */
  runtimeShapes: boolean;
  /** Use f32x4.relaxed_madd (relaxed-simd; Node 20 needs --experimental-wasm-relaxed-simd). */
  fma: boolean;
  /** Import env.memory as a shared memory (for worker threads). */
  sharedMemory: boolean;
  memoryPages: number;
  maxMemoryPages: number;
  /** binaryen optimize/shrink levels; optimizeLevel < 0 skips optimize(). */
  optimizeLevel: number;
  shrinkLevel: number;
  /** How A scalars are broadcast: v128.load32_splat, or f32.load + f32x4.splat. */
  aSplat: 'load32_splat' | 'f32.load+splat';
  /** Let binaryen inline the micro-kernels into the driver (default: keep them as functions). */
  inline: boolean;
  /** Also return the text format (after optimisation). */
  emitText?: boolean;
}

export const defaultOptions: Omit<MatmulGenOptions, 'N' | 'K'> = {
  bLayout: 'packed',
  mr: 6,
  nrv: 2,
  kc: 256,
  nc: 4096,
  mc: 96,
  unroll: 1,
  order: 'jr-ir',
  packA: true,
  runtimeShapes: false,
  fma: false,
  sharedMemory: false,
  memoryPages: 1024,
  maxMemoryPages: 16384,
  optimizeLevel: 3,
  shrinkLevel: 0,
  inline: false,
  aSplat: 'load32_splat',
};

export interface GeneratedMatmul {
  binary: Uint8Array<ArrayBuffer>;
  text?: string;
  /** Bytes of scratch one matmul call needs (A panels). */
  scratchBytes: number;
  options: MatmulGenOptions;
}

/** A stride or extent: a JS number when known at generation time, else the name of an i32 local. */
type Dim = number | string;

/** Small helper around binaryen function bodies: named locals, i32 arithmetic with constant folding. */
class FnBuilder {
  readonly types: number[] = [];
  private readonly index = new Map<string, number>();
  constructor(
    private readonly b: Binaryen,
    private readonly m: Binaryen,
    readonly params: [string, number][],
  ) {
    for (const [n, t] of params) this.declare(n, t);
  }
  private declare(name: string, type: number): number {
    if (this.index.has(name)) throw new Error(`local ${name} declared twice`);
    const i = this.types.length;
    this.types.push(type);
    this.index.set(name, i);
    return i;
  }
  local(name: string, type?: number): string {
    if (!this.index.has(name)) this.declare(name, type ?? this.b.i32);
    return name;
  }
  idx(name: string): number {
    const i = this.index.get(name);
    if (i === undefined) throw new Error(`unknown local ${name}`);
    return i;
  }
  get(name: string): Expr {
    const i = this.idx(name);
    return this.m.local.get(i, this.types[i]);
  }
  set(name: string, e: Expr): Expr {
    return this.m.local.set(this.idx(name), e);
  }
  /** Dim → i32 expression. */
  d(x: Dim): Expr {
    return typeof x === 'number' ? this.m.i32.const(x | 0) : this.get(x);
  }
  add(x: Dim | Expr, y: Dim): Expr;
  add(x: Expr, y: Expr, raw: true): Expr;
  add(x: Dim | Expr, y: Dim | Expr, raw?: boolean): Expr {
    if (raw) return this.m.i32.add(x as Expr, y as Expr);
    return this.m.i32.add(typeof x === 'string' ? this.get(x) : (x as Expr), this.d(y as Dim));
  }
  get fnVars(): number[] {
    return this.types.slice(this.params.length);
  }
  get paramType(): number {
    return this.b.createType(this.params.map((p) => p[1]));
  }
}

/** Dim arithmetic: folds when both are numbers, otherwise needs a run-time expression. */
const isNum = (x: Dim): x is number => typeof x === 'number';

export async function generateMatmul(
  userOpts: Partial<MatmulGenOptions> & { N: number; K: number },
  binaryenArg?: Binaryen,
): Promise<GeneratedMatmul> {
  const o: MatmulGenOptions = { ...defaultOptions, ...userOpts };
  // round the cache blocks to whole micro-tiles
  o.mc = Math.max(o.mr, Math.round(o.mc / o.mr) * o.mr);
  o.nc = Math.max(4 * o.nrv, Math.round(o.nc / (4 * o.nrv)) * 4 * o.nrv);
  const b: Binaryen = binaryenArg ?? (await loadBinaryen());
  const { mr: MR, nrv: NRV, unroll: U } = o;
  const NR = 4 * NRV;
  if (!o.runtimeShapes && o.N % 4 !== 0) throw new Error('N must be a multiple of 4 (f32x4 columns)');
  if (!(o.kc > 0 && o.unroll > 0)) throw new Error('need kc > 0 and unroll > 0');

  const m = new b.Module();
  let features = b.Features.MVP | b.Features.SIMD128 | b.Features.BulkMemory | b.Features.SignExt;
  if (o.sharedMemory) features |= b.Features.Atomics;
  if (o.fma) features |= b.Features.RelaxedSIMD;
  m.setFeatures(features);
  // Imported memory: setMemory creates it (limits, shared flag), addMemoryImport then
  // turns that same internal memory into an import of env.memory.
  m.setMemory(o.memoryPages, o.maxMemoryPages, null, [], o.sharedMemory, false, 'mem');
  m.addMemoryImport('mem', 'env', 'memory', o.sharedMemory);

  const { i32, v128 } = b;
  const c = (n: number): Expr => m.i32.const(n | 0);

  // --- strides (bytes). Dim = number when known now, else a local name in the callee ---
  const Ndim: Dim = o.runtimeShapes ? 'N' : o.N;
  const Kdim: Dim = o.runtimeShapes ? 'K' : o.K;
  const mulDim = (x: Dim, k: number): Dim => (isNum(x) ? x * k : `${x}*${k}`);
  // A element (r,k) at ap + r*aRs + k*aKs ; B (k,v) at bp + k*bKs + 16v ; C (r,v) at cp + r*cRs + 16v
  const aRs: Dim = o.packA ? 4 : mulDim(Kdim, 4);
  const aKs: Dim = o.packA ? MR * 4 : 4;
  const bKs: Dim = o.bLayout === 'packed' ? NR * 4 : mulDim(Ndim, 4);
  const cRs: Dim = mulDim(Ndim, 4);

  const fmaOp = (a: Expr, bb: Expr, acc: Expr): Expr =>
    o.fma
      ? b._BinaryenSIMDTernary(m.ptr, b.RelaxedMaddVecF32x4, a, bb, acc)
      : m.f32x4.add(acc, m.f32x4.mul(a, bb));

  // ---------------------------------------------------------------- micro-kernels
  const strideParams: [string, number][] = [];
  const runtimeStride = (s: Dim): s is string => typeof s === 'string';
  for (const s of [aRs, bKs, cRs]) if (runtimeStride(s) && !strideParams.some((p) => p[0] === s)) strideParams.push([s, i32]);

  const ukName = (mr: number, nv: number): string => `uk_${mr}x${nv}`;
  const made = new Set<string>();
  function makeMicroKernel(mr: number, nv: number): void {
    const name = ukName(mr, nv);
    if (made.has(name)) return;
    made.add(name);
    const f = new FnBuilder(b, m, [
      ['ap', i32],
      ['bp', i32],
      ['cp', i32],
      ['kcl', i32],
      ['first', i32],
      ...strideParams,
    ]);
    const body: Expr[] = [];
    const acc = (r: number, v: number): string => f.local(`acc${r}_${v}`, v128);
    const bv = (v: number): string => f.local(`b${v}`, v128);
    const av = f.local('a', v128);
    // A row pointers: with a run-time row stride each row gets its own pointer.
    const aRowPtr = (r: number): { ptr: string; off: number } =>
      isNum(aRs) ? { ptr: 'ap', off: r * aRs } : { ptr: r === 0 ? 'ap' : f.local(`ap${r}`), off: 0 };
    const cRowPtr = (r: number): { ptr: string; off: number } =>
      isNum(cRs) ? { ptr: 'cp', off: r * cRs } : { ptr: r === 0 ? 'cp' : f.local(`cp${r}`), off: 0 };
    for (let r = 1; r < mr; r++) {
      if (!isNum(aRs)) f.local(`ap${r}`);
      if (!isNum(cRs)) f.local(`cp${r}`);
    }
    if (!isNum(aRs)) for (let r = 1; r < mr; r++) body.push(f.set(`ap${r}`, f.add(f.get(r === 1 ? 'ap' : `ap${r - 1}`), f.get(aRs), true)));
    if (!isNum(cRs)) for (let r = 1; r < mr; r++) body.push(f.set(`cp${r}`, f.add(f.get(r === 1 ? 'cp' : `cp${r - 1}`), f.get(cRs), true)));

    // init accumulators: zero on the first K block, else load C
    const zero = m.v128.const([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const initZero: Expr[] = [];
    const initLoad: Expr[] = [];
    for (let r = 0; r < mr; r++)
      for (let v = 0; v < nv; v++) {
        const { ptr, off } = cRowPtr(r);
        initZero.push(f.set(acc(r, v), m.copyExpression(zero)));
        initLoad.push(f.set(acc(r, v), m.v128.load(off + 16 * v, 16, f.get(ptr))));
      }
    body.push(m.if(f.get('first'), m.block(null, initZero), m.block(null, initLoad)));

    // one k step at offset u within an unrolled group
    const step = (u: number): Expr[] => {
      const out: Expr[] = [];
      const bOff = isNum(bKs) ? u * bKs : 0;
      const aOff = isNum(aKs) ? u * aKs : 0;
      for (let v = 0; v < nv; v++) out.push(f.set(bv(v), m.v128.load(bOff + 16 * v, 16, f.get('bp'))));
      for (let r = 0; r < mr; r++) {
        const { ptr, off } = aRowPtr(r);
        out.push(
          f.set(
            av,
            o.aSplat === 'load32_splat'
              ? m.v128.load32_splat(off + aOff, 4, f.get(ptr))
              : m.f32x4.splat(m.f32.load(off + aOff, 4, f.get(ptr))),
          ),
        );
        for (let v = 0; v < nv; v++) out.push(f.set(acc(r, v), fmaOp(f.get(av), f.get(bv(v)), f.get(acc(r, v)))));
      }
      if (!isNum(bKs)) out.push(f.set('bp', f.add('bp', bKs)));
      return out;
    };
    const bump = (n: number): Expr[] => {
      const out: Expr[] = [];
      const aStep = (aKs as number) * n; // aKs is always a number
      if (isNum(aRs)) out.push(f.set('ap', f.add('ap', aStep)));
      else for (let r = 0; r < mr; r++) out.push(f.set(r === 0 ? 'ap' : `ap${r}`, f.add(r === 0 ? 'ap' : `ap${r}`, aStep)));
      if (isNum(bKs)) out.push(f.set('bp', f.add('bp', bKs * n)));
      return out;
    };
    const kk = f.local('kk');
    body.push(f.set(kk, f.get('kcl')));
    if (U > 1) {
      const group: Expr[] = [];
      for (let u = 0; u < U; u++) group.push(...step(u));
      body.push(
        m.block('main_done', [
          m.loop(
            'main',
            m.block(null, [
              m.br('main_done', m.i32.lt_s(f.get(kk), c(U))),
              ...group,
              ...bump(U),
              f.set(kk, m.i32.sub(f.get(kk), c(U))),
              m.br('main'),
            ]),
          ),
        ]),
      );
    }
    body.push(
      m.block('rem_done', [
        m.loop(
          'rem',
          m.block(null, [
            m.br('rem_done', m.i32.le_s(f.get(kk), c(0))),
            ...step(0),
            ...bump(1),
            f.set(kk, m.i32.sub(f.get(kk), c(1))),
            m.br('rem'),
          ]),
        ),
      ]),
    );
    for (let r = 0; r < mr; r++)
      for (let v = 0; v < nv; v++) {
        const { ptr, off } = cRowPtr(r);
        body.push(m.v128.store(off + 16 * v, 16, f.get(ptr), f.get(acc(r, v))));
      }
    m.addFunction(name, f.paramType, b.none, f.fnVars, m.block(null, body));
  }

  // ---------------------------------------------------------------- A packing
  // rows [0, mcl) of the block at src (row stride K*4) → dst panels: panel q = rows q*MR.., element
  // (r, k) at dst + q*kcl*MR*4 + k*MR*4 + r*4.
  if (o.packA) {
    const f = new FnBuilder(b, m, [
      ['src', i32],
      ['dst', i32],
      ['mcl', i32],
      ['kcl', i32],
      ['lda', i32],
    ]);
    const rr = f.local('rr'),
      k = f.local('k'),
      s = f.local('s'),
      d = f.local('d'),
      rowDst = f.local('rowDst');
    // rowDst for row rr = dst + (rr/MR)*kcl*MR*4 + (rr%MR)*4
    const body = [
      f.set(rr, c(0)),
      m.block('rows_done', [
        m.loop(
          'rows',
          m.block(null, [
            m.br('rows_done', m.i32.ge_s(f.get(rr), f.get('mcl'))),
            f.set(
              rowDst,
              m.i32.add(
                f.get('dst'),
                m.i32.add(
                  m.i32.mul(m.i32.mul(m.i32.div_u(f.get(rr), c(MR)), f.get('kcl')), c(MR * 4)),
                  m.i32.mul(m.i32.rem_u(f.get(rr), c(MR)), c(4)),
                ),
              ),
            ),
            f.set(s, m.i32.add(f.get('src'), m.i32.mul(f.get(rr), f.get('lda')))),
            f.set(d, f.get(rowDst)),
            f.set(k, f.get('kcl')),
            // 4 k at a time: one v128 load, four lane stores
            m.block('k4_done', [
              m.loop(
                'k4',
                m.block(null, [
                  m.br('k4_done', m.i32.lt_s(f.get(k), c(4))),
                  f.set(f.local('t', v128), m.v128.load(0, 4, f.get(s))),
                  ...[0, 1, 2, 3].map((l) => m.v128.store32_lane(l * MR * 4, 4, l, f.get(d), f.get('t'))),
                  f.set(s, m.i32.add(f.get(s), c(16))),
                  f.set(d, m.i32.add(f.get(d), c(MR * 16))),
                  f.set(k, m.i32.sub(f.get(k), c(4))),
                  m.br('k4'),
                ]),
              ),
            ]),
            m.block('k1_done', [
              m.loop(
                'k1',
                m.block(null, [
                  m.br('k1_done', m.i32.le_s(f.get(k), c(0))),
                  m.f32.store(0, 4, f.get(d), m.f32.load(0, 4, f.get(s))),
                  f.set(s, m.i32.add(f.get(s), c(4))),
                  f.set(d, m.i32.add(f.get(d), c(MR * 4))),
                  f.set(k, m.i32.sub(f.get(k), c(1))),
                  m.br('k1'),
                ]),
              ),
            ]),
            f.set(rr, m.i32.add(f.get(rr), c(1))),
            m.br('rows'),
          ]),
        ),
      ]),
    ];
    m.addFunction('pack_a', f.paramType, b.none, f.fnVars, m.block(null, body));
  }

  // ---------------------------------------------------------------- driver
  const f = new FnBuilder(b, m, [
    ['a', i32],
    ['b', i32],
    ['c', i32],
    ['m0', i32],
    ['m1', i32],
    ['scratch', i32],
    ['N', i32],
    ['K', i32],
  ]);
  const N = (): Expr => f.d(Ndim);
  const K = (): Expr => f.d(Kdim);
  // min(x, y) through two temporaries. Careful: select evaluates its two values *before* the
  // condition, so a local.tee inside the condition would be read stale by the values.
  const min = (x: Expr, y: Expr, tmpA: string, tmpB: string): Expr =>
    m.block(
      null,
      [
        f.set(f.local(tmpA), x),
        f.set(f.local(tmpB), y),
        m.select(m.i32.lt_s(f.get(tmpA), f.get(tmpB)), f.get(tmpA), f.get(tmpB)),
      ],
      i32,
    );
  for (const s of strideParams) {
    f.local(s[0]);
  }
  const strideInit: Expr[] = strideParams.map(([s]) => f.set(s, m.i32.mul(f.get(s.split('*')[0]), c(4))));
  const strideArgs = (): Expr[] => strideParams.map(([s]) => f.get(s));

  // Which (mr, nv) micro-kernels can occur.
  const nvs: number[] = o.runtimeShapes ? Array.from({ length: NRV }, (_, i) => i + 1) : [NRV];
  if (!o.runtimeShapes && (o.N % NR) / 4 > 0 && !nvs.includes((o.N % NR) / 4)) nvs.push((o.N % NR) / 4);
  for (const nv of nvs) for (let mr = 1; mr <= MR; mr++) makeMicroKernel(mr, nv);

  const callUk = (): Expr => {
    const args = (): Expr[] => [f.get('aptr'), f.get('bptr'), f.get('cptr'), f.get('kcl'), f.get('first'), ...strideArgs()];
    // fast path: full tile
    let chain: Expr = m.unreachable();
    for (const nv of nvs) {
      let mrChain: Expr = m.unreachable();
      for (let mr = 1; mr <= MR; mr++)
        mrChain = m.if(m.i32.eq(f.get('mrl'), c(mr)), m.call(ukName(mr, nv), args(), b.none), mrChain);
      chain = m.if(m.i32.eq(f.get('ncl'), c(nv * 4)), mrChain, chain);
    }
    return m.if(
      m.i32.and(m.i32.eq(f.get('mrl'), c(MR)), m.i32.eq(f.get('ncl'), c(NR))),
      m.call(ukName(MR, NRV), args(), b.none),
      chain,
    );
  };

  for (const n of ['jc', 'pc', 'kcl', 'first', 'ic', 'mcl', 'jr', 'jend', 'ncl', 'ir', 'mrl', 'aptr', 'bptr', 'cptr', 'bcol', 'arow'])
    f.local(n);
  const loop = (label: string, cond: Expr, body: Expr[], incr: Expr): Expr =>
    m.block(`${label}_done`, [
      m.loop(label, m.block(null, [m.br(`${label}_done`, m.i32.eqz(cond)), ...body, incr, m.br(label)])),
    ]);

  // bcol: byte address of B micro-panel at column jr, row pc
  const setB = f.set(
    'bptr',
    o.bLayout === 'packed'
      ? // panel p = jr/NR starts at p*K*NR floats = jr*K floats; then pc*NR floats
        m.i32.add(f.get('b'), m.i32.mul(m.i32.add(m.i32.mul(f.get('jr'), K()), m.i32.mul(f.get('pc'), c(NR))), c(4)))
      : m.i32.add(f.get('b'), m.i32.mul(m.i32.add(m.i32.mul(f.get('pc'), N()), f.get('jr')), c(4))),
  );
  const setA = f.set(
    'aptr',
    o.packA
      ? m.i32.add(f.get('scratch'), m.i32.mul(m.i32.mul(f.get('ir'), f.get('kcl')), c(4)))
      : m.i32.add(f.get('a'), m.i32.mul(m.i32.add(m.i32.mul(m.i32.add(f.get('ic'), f.get('ir')), K()), f.get('pc')), c(4))),
  );
  const setC = f.set(
    'cptr',
    m.i32.add(f.get('c'), m.i32.mul(m.i32.add(m.i32.mul(m.i32.add(f.get('ic'), f.get('ir')), N()), f.get('jr')), c(4))),
  );
  const setNcl = f.set('ncl', min(c(NR), m.i32.sub(N(), f.get('jr')), 't0', 't1'));
  const setMrl = f.set('mrl', min(c(MR), m.i32.sub(f.get('mcl'), f.get('ir')), 't2', 't3'));

  const irLoop = (inner: Expr[]): Expr =>
    m.block(null, [
      f.set('ir', c(0)),
      loop('ir', m.i32.lt_s(f.get('ir'), f.get('mcl')), [setMrl, setA, ...inner], f.set('ir', m.i32.add(f.get('ir'), c(MR)))),
    ]);
  const jrLoop = (inner: Expr[]): Expr =>
    m.block(null, [
      f.set('jr', f.get('jc')),
      loop('jr', m.i32.lt_s(f.get('jr'), f.get('jend')), [setNcl, setB, ...inner], f.set('jr', m.i32.add(f.get('jr'), c(NR)))),
    ]);
  const tile = [setC, callUk()];
  const inner = o.order === 'jr-ir' ? jrLoop([irLoop(tile)]) : irLoop([jrLoop(tile)]);

  const icBody: Expr[] = [f.set('mcl', min(c(o.mc), m.i32.sub(f.get('m1'), f.get('ic')), 't4', 't5'))];
  if (o.packA)
    icBody.push(
      m.call(
        'pack_a',
        [
          m.i32.add(f.get('a'), m.i32.mul(m.i32.add(m.i32.mul(f.get('ic'), K()), f.get('pc')), c(4))),
          f.get('scratch'),
          f.get('mcl'),
          f.get('kcl'),
          m.i32.mul(K(), c(4)),
        ],
        b.none,
      ),
    );
  icBody.push(inner);

  const driver = m.block(null, [
    ...strideInit,
    f.set('jc', c(0)),
    loop(
      'jc',
      m.i32.lt_s(f.get('jc'), N()),
      [
        f.set('jend', min(m.i32.add(f.get('jc'), c(o.nc)), N(), 't6', 't7')),
        f.set('pc', c(0)),
        loop(
          'pc',
          m.i32.lt_s(f.get('pc'), K()),
          [
            f.set('kcl', min(c(o.kc), m.i32.sub(K(), f.get('pc')), 't8', 't9')),
            f.set('first', m.i32.eqz(f.get('pc'))),
            f.set('ic', f.get('m0')),
            loop('ic', m.i32.lt_s(f.get('ic'), f.get('m1')), icBody, f.set('ic', m.i32.add(f.get('ic'), c(o.mc)))),
          ],
          f.set('pc', m.i32.add(f.get('pc'), c(o.kc))),
        ),
      ],
      f.set('jc', m.i32.add(f.get('jc'), c(o.nc))),
    ),
  ]);
  m.addFunction('matmul', f.paramType, b.none, f.fnVars, driver);
  m.addFunctionExport('matmul', 'matmul');

  // ---------------------------------------------------------------- B packing (weight-load time)
  // Panel p (columns p*NR ..) holds, for each k, the NR values of columns p*NR + j at
  // dst + ((p*K + k)*NR + j)*4, so element (k, n) of B goes to
  // dst + ((n/NR)*K*NR + k*NR + n%NR)*4. Both packers need N % 4 == 0 and work on 4 columns
  // at a time (n%NR is then a multiple of 4, so the 4 values are contiguous in dst).
  //   pack_b_kn(src B[K,N], dst, N, K): one v128 copy per (k, 4 columns).
  //   pack_b_nk(src W[N,K], dst, N, K): rows n..n+3 of W, 4 k at a time, 4×4 transpose in
  //   registers (i8x16.shuffle), scalar tail for K % 4.
  {
    const lanes = (idx: number[]): number[] => idx.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]);
    const shuf = (x: Expr, y: Expr, idx: number[]): Expr => m.i8x16.shuffle(x, y, lanes(idx));
    for (const layout of ['kn', 'nk'] as const) {
      const g = new FnBuilder(b, m, [
        ['src', i32],
        ['dst', i32],
        ['N', i32],
        ['K', i32],
      ]);
      const n = g.local('n'),
        k = g.local('k'),
        d = g.local('d'),
        s = g.local('s'),
        ldd = g.local('ldd');
      const loopWhile = (label: string, cond: Expr, body: Expr[]): Expr =>
        m.block(`${label}_done`, [m.loop(label, m.block(null, [m.br(`${label}_done`, m.i32.eqz(cond)), ...body, m.br(label)]))]);
      const inner: Expr[] = [];
      if (layout === 'kn') {
        // s walks B[k, n..n+3] (stride N*4), d walks the panel (stride NR*4)
        inner.push(
          loopWhile('k', m.i32.lt_s(g.get(k), g.get('K')), [
            m.v128.store(0, 4, g.get(d), m.v128.load(0, 4, g.get(s))),
            g.set(d, m.i32.add(g.get(d), c(NR * 4))),
            g.set(s, m.i32.add(g.get(s), g.get(ldd))),
            g.set(k, m.i32.add(g.get(k), c(1))),
          ]),
        );
      } else {
        // s walks W[n, k..k+3]; rows n+1..n+3 are at s + i*ldd (ldd = K*4)
        const r = [0, 1, 2, 3].map((i) => g.local(`r${i}`, v128));
        const t = [0, 1, 2, 3].map((i) => g.local(`t${i}`, v128));
        const rowPtr = (i: number): Expr => (i === 0 ? g.get(s) : m.i32.add(g.get(s), m.i32.mul(g.get(ldd), c(i))));
        inner.push(
          loopWhile('k4', m.i32.le_s(m.i32.add(g.get(k), c(4)), g.get('K')), [
            ...r.map((ri, i) => g.set(ri, m.v128.load(0, 4, rowPtr(i)))),
            g.set(t[0], shuf(g.get(r[0]), g.get(r[1]), [0, 4, 1, 5])),
            g.set(t[1], shuf(g.get(r[0]), g.get(r[1]), [2, 6, 3, 7])),
            g.set(t[2], shuf(g.get(r[2]), g.get(r[3]), [0, 4, 1, 5])),
            g.set(t[3], shuf(g.get(r[2]), g.get(r[3]), [2, 6, 3, 7])),
            m.v128.store(0, 4, g.get(d), shuf(g.get(t[0]), g.get(t[2]), [0, 1, 4, 5])),
            m.v128.store(NR * 4, 4, g.get(d), shuf(g.get(t[0]), g.get(t[2]), [2, 3, 6, 7])),
            m.v128.store(2 * NR * 4, 4, g.get(d), shuf(g.get(t[1]), g.get(t[3]), [0, 1, 4, 5])),
            m.v128.store(3 * NR * 4, 4, g.get(d), shuf(g.get(t[1]), g.get(t[3]), [2, 3, 6, 7])),
            g.set(d, m.i32.add(g.get(d), c(4 * NR * 4))),
            g.set(s, m.i32.add(g.get(s), c(16))),
            g.set(k, m.i32.add(g.get(k), c(4))),
          ]),
          loopWhile('k1', m.i32.lt_s(g.get(k), g.get('K')), [
            ...[0, 1, 2, 3].map((i) => m.f32.store(4 * i, 4, g.get(d), m.f32.load(0, 4, rowPtr(i)))),
            g.set(d, m.i32.add(g.get(d), c(NR * 4))),
            g.set(s, m.i32.add(g.get(s), c(4))),
            g.set(k, m.i32.add(g.get(k), c(1))),
          ]),
        );
      }
      const body = [
        g.set(ldd, m.i32.mul(g.get(layout === 'kn' ? 'N' : 'K'), c(4))),
        g.set(n, c(0)),
        loopWhile('n', m.i32.lt_s(g.get(n), g.get('N')), [
          g.set(
            d,
            m.i32.add(
              g.get('dst'),
              m.i32.mul(
                m.i32.add(
                  m.i32.mul(m.i32.mul(m.i32.div_u(g.get(n), c(NR)), g.get('K')), c(NR)),
                  m.i32.rem_u(g.get(n), c(NR)),
                ),
                c(4),
              ),
            ),
          ),
          g.set(s, m.i32.add(g.get('src'), m.i32.mul(layout === 'nk' ? m.i32.mul(g.get(n), g.get('K')) : g.get(n), c(4)))),
          g.set(k, c(0)),
          ...inner,
          g.set(n, m.i32.add(g.get(n), c(4))),
        ]),
      ];
      m.addFunction(`pack_b_${layout}`, g.paramType, b.none, g.fnVars, m.block(null, body));
      m.addFunctionExport(`pack_b_${layout}`, `pack_b_${layout}`);
    }
  }

  if (!m.validate()) throw new Error('binaryen validation failed');
  if (o.optimizeLevel >= 0) {
    // These are global settings of the binaryen instance: set them for every call.
    b.setOptimizeLevel(o.optimizeLevel);
    b.setShrinkLevel(o.shrinkLevel);
    b.setAlwaysInlineMaxSize(o.inline ? 2 : 0);
    b.setFlexibleInlineMaxSize(o.inline ? 20 : 0);
    b.setOneCallerInlineMaxSize(o.inline ? -1 : 0);
    m.optimize();
    if (!m.validate()) throw new Error('binaryen validation failed after optimize');
  }
  const binary: Uint8Array<ArrayBuffer> = m.emitBinary();
  const text: string | undefined = o.emitText ? m.emitText() : undefined;
  m.dispose();
  return { binary, text, scratchBytes: o.packA ? o.mc * o.kc * 4 : 0, options: o };
}

/**
 * Feature test for relaxed SIMD: validates a one-function module that uses f32x4.relaxed_madd.
 * (binaryen.js has no builder method for relaxed_madd; `_BinaryenSIMDTernary(module.ptr, op, a, b, c)`
 * from the underlying C API does it.) In a browser, ship both kernels and pick with this.
 */
export async function relaxedSimdSupported(binaryenArg?: Binaryen): Promise<boolean> {
  const b: Binaryen = binaryenArg ?? (await loadBinaryen());
  const m = new b.Module();
  m.setFeatures(b.Features.MVP | b.Features.SIMD128 | b.Features.RelaxedSIMD);
  const V = b.v128;
  const e = b._BinaryenSIMDTernary(m.ptr, b.RelaxedMaddVecF32x4, m.local.get(0, V), m.local.get(1, V), m.local.get(2, V));
  m.addFunction('f', b.createType([V, V, V]), V, [], e);
  const bytes: Uint8Array<ArrayBuffer> = m.emitBinary();
  m.dispose();
  return WebAssembly.validate(bytes);
}
