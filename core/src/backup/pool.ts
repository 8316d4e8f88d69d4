import { getMaxListeners, setMaxListeners } from 'node:events';

/**
 * Abort listeners one task may hold on the signal at once: a provider's SDK request, the streams it
 * reads and writes, a multipart upload's parts in flight.
 */
const LISTENERS_PER_TASK = 8;

/**
 * Runs `task` for each item, at most `concurrency` at a time, in order. After the first failure (or
 * once `signal` aborts) no new task starts; the running ones are awaited, then the first error is
 * thrown.
 *
 * Every task shares `signal`, so past a few tasks at once Node's default limit of 10 abort listeners
 * would print a MaxListenersExceededWarning for listeners that are no leak; the limit is raised to
 * what `concurrency` tasks may hold, so a real leak still warns.
 */
export async function runPool<T>(
  items: readonly T[],
  concurrency: number,
  signal: AbortSignal,
  task: (item: T) => Promise<void>,
): Promise<void> {
  const workers = Math.max(1, Math.min(concurrency, items.length));
  setMaxListeners(Math.max(getMaxListeners(signal), 10 + LISTENERS_PER_TASK * workers), signal);
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
  await Promise.all(Array.from({ length: workers }, worker));
  if (failure !== undefined) throw failure.error;
  signal.throwIfAborted();
}
