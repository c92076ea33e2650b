// The transfer plans a multi-GPU runtime carries out with NCCL (runtime/collectives/exchange.ts), executed here by
// matching each send with the peer's receive in posting order, as NCCL does, give exactly what the reference
// collectives compute, for random dispatch offsets on 1 to 4 ranks.
import { describe, expect, it } from 'vitest';
import { combinePlan, dispatchPlan, type RankPlan } from '../../runtime/collectives/exchange.ts';
import { collectiveKernels } from '../../runtime/reference/kernels/collectives.ts';
import { mulberry32, tensorOf } from '../../runtime/reference/index.ts';

/** Carries out the plans between in-memory buffers of `width` floats a row; checks every send meets its receive. */
function carryOut(plans: RankPlan[], from: Float32Array[], to: Float32Array[], width: number): void {
  plans.forEach((plan, p) => {
    for (let q = 0; q < plans.length; q++) {
      const sends = plan.sends.filter((s) => s.peer === q);
      const recvs = plans[q]!.recvs.filter((r) => r.peer === p);
      expect(recvs.map((r) => r.rows), `rank ${p} → rank ${q}`).toEqual(sends.map((s) => s.rows));
      sends.forEach((s, i) => to[q]!.set(from[p]!.subarray(s.row * width, (s.row + s.rows) * width), recvs[i]!.row * width));
    }
  });
}

describe('dispatchPlan and combinePlan match the reference collectives', () => {
  for (const ranks of [1, 2, 3, 4]) {
    it(`${ranks} ranks, ${2 * ranks} experts, 5 tokens × top-2 per rank, random choices`, () => {
      const rand = mulberry32(ranks);
      const experts = 2 * ranks;
      const n = 10;
      const width = 3;
      const offsets = Array.from({ length: ranks }, () => {
        const counts = Array.from({ length: experts }, () => 0);
        for (let t = 0; t < n - Math.floor(rand() * 3); t++) counts[Math.floor(rand() * experts)]!++;
        const o = new Int32Array(experts + 1);
        counts.forEach((c, e) => (o[e + 1] = o[e]! + c));
        return o;
      });
      const rows = offsets.map((o, p) => Float32Array.from({ length: n * width }, (_, i) => (i < o[experts]! * width ? 1000 * p + i + 1 : 0)));
      const ins = rows.map((r, p) => [tensorOf('f32', [n, width], Array.from(r)), tensorOf('i32', [experts + 1], Array.from(offsets[p]!))]);
      const want = collectiveKernels.all_to_all_dispatch!(ins, { experts, ranks });

      const plan = dispatchPlan(offsets, experts);
      const recv = rows.map(() => new Float32Array(ranks * n * width));
      carryOut(plan.ranks, rows, recv, width);
      recv.forEach((r, q) => {
        expect(Array.from(r), `recv of rank ${q}`).toEqual(Array.from(want[q]![0]!.data));
        expect(Array.from(plan.recvOffsets[q]!)).toEqual(Array.from(want[q]![1]!.data));
        expect(Array.from(plan.counts[q]!)).toEqual(Array.from(want[q]![2]!.data));
      });

      const results = recv.map((r) => Float32Array.from(r, (v) => -v));
      const back = rows.map(() => new Float32Array(n * width));
      carryOut(combinePlan(plan), results, back, width);
      const wantBack = collectiveKernels.all_to_all_combine!(results.map((r, q) => [tensorOf('f32', [ranks * n, width], Array.from(r)), ins[q]![1]!, want[q]![2]!]), { experts, ranks });
      back.forEach((b, p) => expect(Array.from(b), `back to rank ${p}`).toEqual(Array.from(wantBack[p]![0]!.data)));
      back.forEach((b, p) => expect(Array.from(b)).toEqual(Array.from(rows[p]!, (v) => (v === 0 ? 0 : -v))));
    });
  }
});
