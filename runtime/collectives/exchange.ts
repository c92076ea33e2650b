// The transfers behind expert parallelism's two collectives, as plain data: which row blocks each rank sends to and
// receives from each other rank, computed from every rank's dispatch offsets (which a runtime all-gathers first).
// A send to a peer matches the peer's receive from this rank in posting order (NCCL's rule for grouped
// ncclSend/ncclRecv), so both sides list one block per (peer, local expert), in local expert order, and skip the
// empty ones alike. Semantics: runtime/reference/kernels/collectives.ts, which tests/runtime/exchange.test.ts
// checks these plans against.

export interface Transfer {
  peer: number;
  /** First row of the block in the local buffer. */
  row: number;
  rows: number;
}

export interface RankPlan {
  sends: Transfer[];
  recvs: Transfer[];
}

export interface DispatchPlan {
  ranks: RankPlan[];
  /** Per rank: rows received from rank p for local expert l, at [p · L + l] (the op's `counts` result). */
  counts: Int32Array[];
  /** Per rank: where each local expert's received rows start, [L + 1] (the op's `recv_offsets` result). */
  recvOffsets: Int32Array[];
}

/** Where rank q's rows from rank p for local expert l start in its receive buffer: (expert, source rank) order. */
export function recvRow(counts: Int32Array, ranks: number, local: number, p: number, l: number): number {
  let row = 0;
  for (let l2 = 0; l2 < l; l2++) for (let p2 = 0; p2 < ranks; p2++) row += counts[p2 * local + l2]!;
  for (let p2 = 0; p2 < p; p2++) row += counts[p2 * local + l]!;
  return row;
}

/** all_to_all_dispatch: rank p's rows for expert e = q·L + l (offsets_p[e] …) go to rank q. */
export function dispatchPlan(offsets: Int32Array[], experts: number): DispatchPlan {
  const R = offsets.length;
  const L = experts / R;
  if (!Number.isInteger(L)) throw new Error(`${R} ranks do not split ${experts} experts evenly`);
  const count = (p: number, e: number) => offsets[p]![e + 1]! - offsets[p]![e]!;
  const counts = Array.from({ length: R }, (_, q) => Int32Array.from({ length: R * L }, (_, i) => count(Math.floor(i / L), q * L + (i % L))));
  const recvOffsets = counts.map((c) => {
    const o = new Int32Array(L + 1);
    for (let l = 0; l < L; l++) o[l + 1] = o[l]! + Array.from({ length: R }, (_, p) => c[p * L + l]!).reduce((a, b) => a + b, 0);
    return o;
  });
  const ranks = Array.from({ length: R }, (_, me): RankPlan => {
    const sends: Transfer[] = [];
    const recvs: Transfer[] = [];
    for (let peer = 0; peer < R; peer++) {
      for (let l = 0; l < L; l++) {
        const out = count(me, peer * L + l);
        if (out > 0) sends.push({ peer, row: offsets[me]![peer * L + l]!, rows: out });
        const back = counts[me]![peer * L + l]!;
        if (back > 0) recvs.push({ peer, row: recvRow(counts[me]!, R, L, peer, l), rows: back });
      }
    }
    return { sends, recvs };
  });
  return { ranks, counts, recvOffsets };
}

/** all_to_all_combine: the reverse of dispatchPlan's transfers, so every row comes back to where it was sent from. */
export function combinePlan(dispatch: DispatchPlan): RankPlan[] {
  return dispatch.ranks.map((r) => ({ sends: r.recvs, recvs: r.sends }));
}
