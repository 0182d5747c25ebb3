/**
 * Runs operations the way `pulumi up` hands them to a provider: at most `parallel` at once, and after
 * each one the worker waits for the engine's checkpoint save, which is serialised across workers
 * (`saveMs` each). Through the real CLI this is what spreads creates out (one every few tens to hundreds
 * of ms at N = 1,000), so reads that confirm writes are shared only if they wait for the burst. Tests
 * assert request counts under this pacing, never times.
 */
export async function enginePaced<T, R>(items: readonly T[], fn: (item: T) => Promise<R>, opts: { parallel?: number; saveMs?: number } = {}): Promise<R[]> {
  const parallel = opts.parallel ?? 8;
  const saveMs = opts.saveMs ?? 10;
  let saves: Promise<void> = Promise.resolve();
  const save = () => (saves = saves.then(() => new Promise<void>((r) => setTimeout(r, saveMs))));
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) {
      out[i] = await fn(items[i]!);
      await save();
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, items.length) }, worker));
  return out;
}

/** Like {@link enginePaced}, but collects failures instead of stopping at the first. */
export async function enginePacedSettled<T, R>(items: readonly T[], fn: (item: T) => Promise<R>, opts: { parallel?: number; saveMs?: number } = {}) {
  return enginePaced(
    items,
    (i) =>
      fn(i).then(
        (value) => ({ ok: true as const, value }),
        (error: unknown) => ({ ok: false as const, error }),
      ),
    opts,
  );
}
