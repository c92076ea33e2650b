// Expert parallelism on NVIDIA GPUs: the ranks of one SPMD kernel program (each with its share of the batch and of
// the experts) run the kernels between two collectives on their own GPUs, asynchronously, then carry out the
// collective together through NCCL: the dispatch all-gathers every rank's offsets, plans the transfers
// (runtime/collectives/exchange.ts, the same plan on every rank) and sends each row block to the rank holding its
// expert; the combine sends the results back along the reverse plan. A process holds one or several of the ranks
// (`local`); the others may be in other processes, on this machine or others, sharing the communicator.
import { evalDim } from '../../compiler/ir/dims.ts';
import type { CollectiveSpec, Kernel, KernelProgram } from '../../compiler/kernel/ir.ts';
import { combinePlan, dispatchPlan, type DispatchPlan, type RankPlan } from '../collectives/exchange.ts';
import type { Cuda } from './driver.ts';
import type { Nccl } from './nccl.ts';
import type { CudaProgram, CudaRun, Storage } from './run.ts';

export interface LocalRank {
  /** This rank's index among all ranks. */
  rank: number;
  cuda: Cuda;
  program: CudaProgram;
  comm: unknown;
}

/** The kernels between collectives, in order: [kernels…], collective, [kernels…], collective, … */
function segments(program: KernelProgram): (Set<string> | Kernel)[] {
  const out: (Set<string> | Kernel)[] = [new Set()];
  for (const k of program.kernels) {
    if (k.collective) out.push(k, new Set());
    else (out[out.length - 1] as Set<string>).add(k.name);
  }
  return out;
}

/** Bytes of one element of a buffer: 16-bit where the program stores it as bf16/f16. */
function elementBytes(local: LocalRank, buffer: string): number {
  const c = local.program.compiled;
  return c.precision && c.precision !== 'f32' && c.bf16?.includes(buffer) ? 2 : 4;
}

/** GPU milliseconds (on the first local rank's clock) of the kernels between collectives and of the collectives. */
export interface ExpertParallelTiming {
  compute: number;
  exchange: number;
}

export function runExpertParallel(nccl: Nccl, local: LocalRank[], runs: CudaRun[], timing?: ExpertParallelTiming): Record<string, Storage>[] {
  const program = local[0]!.program.program;
  const bound = local.map((l, i) => {
    l.cuda.use();
    return l.program.begin(runs[i]!);
  });
  const plans = new Map<string, DispatchPlan>();
  const each = (body: (l: LocalRank, i: number) => void) => local.forEach((l, i) => {
    l.cuda.use();
    body(l, i);
  });
  const exchange = (plan: (l: LocalRank) => RankPlan, from: string, to: string, spec: CollectiveSpec) => {
    nccl.groupStart();
    each((l, i) => {
      const row = spec.width * elementBytes(l, from);
      const src = bound[i]!.ptrs.get(from)!;
      const dst = bound[i]!.ptrs.get(to)!;
      for (const s of plan(l).sends) nccl.send(src + BigInt(s.row * row), s.rows * row, s.peer, l.comm);
      for (const r of plan(l).recvs) nccl.recv(dst + BigInt(r.row * row), r.rows * row, r.peer, l.comm);
    });
    nccl.groupEnd();
  };
  const zero = (l: LocalRank, i: number, buffer: string) => {
    const b = program.buffers.find((x) => x.name === buffer)!;
    l.cuda.zero(bound[i]!.ptrs.get(buffer)!, evalDim(b.size, runs[i]!.sizes) * elementBytes(l, buffer));
  };

  const timed = (what: keyof ExpertParallelTiming, body: () => void) => {
    if (timing) timing[what] += local[0]!.cuda.time(body);
    else body();
  };
  for (const part of segments(program)) {
    if (part instanceof Set) {
      if (part.size > 0) timed('compute', () => each((_l, i) => bound[i]!.launch(part)));
    } else {
      timed('exchange', () => collective(part));
    }
  }
  return local.map((l, i) => {
    l.cuda.use();
    return bound[i]!.outputs();
  });

  function collective(part: Kernel): void {
    const spec = part.collective!;
    const names = part.buffers.map((b) => b.name);
    if (spec.op === 'all_to_all_dispatch') {
      const [rows, offsets, recv, recvOffsets, counts] = names as [string, string, string, string, string];
      const E = spec.experts;
      // Every rank's offsets, then the same plan everywhere.
      const gathered = local.map((l) => {
        l.cuda.use();
        return l.cuda.alloc(spec.ranks * (E + 1) * 4);
      });
      nccl.groupStart();
      each((l, i) => nccl.allGatherInt32(bound[i]!.ptrs.get(offsets)!, gathered[i]!, E + 1, l.comm));
      nccl.groupEnd();
      const all = new Int32Array(spec.ranks * (E + 1));
      local[0]!.cuda.use();
      local[0]!.cuda.download(gathered[0]!, all);
      each((l, i) => l.cuda.free(gathered[i]!));
      const plan = dispatchPlan(Array.from({ length: spec.ranks }, (_, p) => all.slice(p * (E + 1), (p + 1) * (E + 1))), E);
      plans.set(offsets, plan);
      each((l, i) => {
        zero(l, i, recv);
        l.cuda.upload(bound[i]!.ptrs.get(recvOffsets)!, plan.recvOffsets[l.rank]!);
        l.cuda.upload(bound[i]!.ptrs.get(counts)!, plan.counts[l.rank]!);
      });
      exchange((l) => plan.ranks[l.rank]!, rows, recv, spec);
    } else {
      const [out, offsets, , y] = names as [string, string, string, string];
      const plan = plans.get(offsets);
      if (!plan) throw new Error(`${part.name}: no all_to_all_dispatch of ${offsets} ran before this combine`);
      const back = combinePlan(plan);
      each((l, i) => zero(l, i, y));
      exchange((l) => back[l.rank]!, out, y, spec);
    }
  }
}
