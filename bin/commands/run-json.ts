// moec run --json: what a run did as one JSON object (docs/json.md): the model, target, output file, device,
// each output's name and shape, the wall time, and with --profile the time per kind of kernel.

export interface RunJson {
  model: string;
  target: string;
  out: string;
  /** The GPU (cuda) or adapter (webgpu) it ran on; null on the CPU targets. */
  device: string | null;
  outputs: { name: string; shape: number[] }[];
  /** Wall time of the whole command, from reading the spec to the written outputs. */
  ms: number;
  /** With --profile: per kind of kernel (ops joined by '+'), most time first; null without. */
  profile: { kernel: string; calls: number; ms: number }[] | null;
}

export function runJson(r: {
  model: string; target: string; out: string; device?: string; ms: number;
  outputs: readonly { name: string; shape: number[] }[];
  profile?: ReadonlyMap<string, { ms: number; calls: number }>;
}): RunJson {
  return {
    model: r.model,
    target: r.target,
    out: r.out,
    device: r.device ?? null,
    outputs: r.outputs.map((o) => ({ name: o.name, shape: o.shape })),
    ms: Number(r.ms.toFixed(3)),
    profile: r.profile ? [...r.profile].sort((a, b) => b[1].ms - a[1].ms).map(([kernel, e]) => ({ kernel, calls: e.calls, ms: Number(e.ms.toFixed(3)) })) : null,
  };
}
