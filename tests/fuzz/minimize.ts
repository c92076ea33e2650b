// Shrinks a failing text to a small one that still fails (delta debugging: drop lines, then ever smaller chunks of
// characters, keeping each cut that still fails). What the nightly fuzzer reports, and regression tests start from.

export function minimizeText(text: string, fails: (t: string) => boolean, budget = 4000): string {
  let best = text;
  let tries = 0;
  const attempt = (candidate: string): boolean => {
    if (tries >= budget || candidate === best) return false;
    tries++;
    if (!fails(candidate)) return false;
    best = candidate;
    return true;
  };
  // Whole lines first: they are the cheapest large cuts.
  for (let changed = true; changed && tries < budget;) {
    changed = false;
    const lines = best.split('\n');
    for (let i = lines.length - 1; i >= 0; i--) {
      if (attempt([...best.split('\n').slice(0, i), ...best.split('\n').slice(i + 1)].join('\n'))) changed = true;
    }
  }
  for (let chunk = Math.max(1, best.length >> 1); chunk >= 1 && tries < budget; chunk >>= 1) {
    for (let changed = true; changed && tries < budget;) {
      changed = false;
      for (let i = 0; i + chunk <= best.length && tries < budget;) {
        if (attempt(best.slice(0, i) + best.slice(i + chunk))) changed = true;
        else i += chunk;
      }
    }
  }
  return best;
}
