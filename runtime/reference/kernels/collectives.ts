// Expert parallelism's collectives on the reference executor: each takes every rank's operands and makes every
// rank's results, as NCCL's grouped sends and receives do between GPUs. Rank r holds experts r·L … r·L+L-1.
import { intAttr, requireInt, requireRank, type Tensor } from '../tensor.ts';
import type { Attr } from '../../../compiler/ir/types.ts';
import { recvRow } from '../../collectives/exchange.ts';

export type CollectiveKernel = (ins: Tensor[][], attrs: Record<string, Attr>) => Tensor[][];

function layout(attrs: Record<string, Attr>, ranks: number) {
  const E = intAttr(attrs, 'experts');
  const R = intAttr(attrs, 'ranks');
  if (R !== ranks) throw new Error(`the collective is for ${R} ranks but ${ranks} ran it`);
  if (E % R !== 0) throw new Error(`${R} ranks do not split ${E} experts evenly`);
  return { E, R, L: E / R };
}

const offsetsOf = (t: Tensor, E: number, what: string): Int32Array => {
  requireInt(t, what);
  requireRank(t, 1, `${what} [experts + 1]`);
  if (t.shape[0] !== E + 1) throw new Error(`${what} has ${t.shape[0]} entries for ${E} experts`);
  return t.data as Int32Array;
};

export const collectiveKernels: Record<string, CollectiveKernel> = {
  all_to_all_dispatch: (ins, attrs) => {
    const { E, R, L } = layout(attrs, ins.length);
    const offsets = ins.map(([, off], p) => offsetsOf(off!, E, `all_to_all_dispatch offsets of rank ${p}`));
    return ins.map((_, q) => {
      const [rows] = ins[q]!;
      const [n, d] = rows!.shape as [number, number];
      const counts = new Int32Array(R * L);
      for (let p = 0; p < R; p++) for (let l = 0; l < L; l++) counts[p * L + l] = offsets[p]![q * L + l + 1]! - offsets[p]![q * L + l]!;
      const recv = new Float32Array(R * n * d);
      const recvOffsets = new Int32Array(L + 1);
      for (let l = 0; l < L; l++) {
        recvOffsets[l + 1] = recvOffsets[l]!;
        for (let p = 0; p < R; p++) {
          const from = offsets[p]![q * L + l]!;
          const count = counts[p * L + l]!;
          recv.set(ins[p]![0]!.data.subarray(from * d, (from + count) * d), recvOffsets[l + 1]! * d);
          recvOffsets[l + 1] += count;
        }
      }
      return [
        { dtype: rows!.dtype, shape: [R * n, d], data: recv },
        { dtype: 'i32', shape: [L + 1], data: recvOffsets },
        { dtype: 'i32', shape: [R, L], data: counts },
      ];
    });
  },
  all_to_all_combine: (ins, attrs) => {
    const { E, R, L } = layout(attrs, ins.length);
    return ins.map(([out, off], p) => {
      const offsets = offsetsOf(off!, E, `all_to_all_combine offsets of rank ${p}`);
      const d = out!.shape[1]!;
      const n = out!.shape[0]! / R;
      const y = new Float32Array(n * d);
      for (let e = 0; e < E; e++) {
        const q = Math.floor(e / L);
        const counts = ins[q]![2]!.data as Int32Array;
        const start = recvRow(counts, R, L, p, e % L);
        const count = offsets[e + 1]! - offsets[e]!;
        y.set(ins[q]![0]!.data.subarray(start * d, (start + count) * d), offsets[e]! * d);
      }
      return [{ dtype: out!.dtype, shape: [n, d], data: y }];
    });
  },
};

export const collectiveOps = new Set(Object.keys(collectiveKernels));
