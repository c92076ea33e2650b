// How the WebGPU benchmarks time a forward: `repeat` forwards encoded in one compute pass less a single one (the
// uploads, the readback and the submit cancel out), the best of 5 of each.
export async function timeForward(run: (repeat: number) => Promise<unknown>, repeat?: number): Promise<number> {
  const best = async (n: number) => {
    let m = Infinity;
    for (let t = 0; t < 5; t++) {
      const t0 = performance.now();
      await run(n);
      m = Math.min(m, performance.now() - t0);
    }
    return m;
  };
  await run(1);
  const once = await best(1);
  // Enough forwards for about half a second of GPU work, at least 4, unless told.
  const reps = repeat ?? Math.max(4, Math.min(50, Math.round(500 / Math.max(once, 1))));
  return ((await best(reps + 1)) - once) / reps;
}
