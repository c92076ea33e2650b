// A limit on how many tasks run at once: each compile (nvcc, g++) is one busy core, and the machines have two.

/** Runs tasks with at most `width` at a time, in the order given. */
export function pool(width: number) {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    // A finished task hands its place to the next in line, so none can slip in between.
    if (running < width) running++;
    else await new Promise<void>((go) => waiting.push(go));
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
}
