/**
 * Runs `task` for each item, at most `concurrency` at a time, in order. After the first failure (or
 * once `signal` aborts) no new task starts; the running ones are awaited, then the first error is
 * thrown.
 */
export async function runPool<T>(
  items: readonly T[],
  concurrency: number,
  signal: AbortSignal,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      if (signal.aborted) {
        failure = { error: signal.reason };
        break;
      }
      const item = items[next++] as T;
      try {
        await task(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
  if (failure !== undefined) throw failure.error;
  signal.throwIfAborted();
}
