import { setImmediate } from 'node:timers/promises';
import test from 'ava';
import { runPool } from '../../src/backup/pool.js';

/** The MaxListenersExceededWarnings Node emits for `signal` while `work` runs. */
async function listenerWarnings(signal: AbortSignal, work: () => Promise<void>): Promise<number> {
  let warnings = 0;
  const onWarning = (warning: Error & { target?: unknown }) => {
    if (warning.name === 'MaxListenersExceededWarning' && warning.target === signal) warnings++;
  };
  process.on('warning', onWarning);
  try {
    await work();
    await setImmediate(); // warnings are emitted on a later tick
  } finally {
    process.off('warning', onWarning);
  }
  return warnings;
}

/** A task holding `count` abort listeners on `signal` while it runs; `keep` leaves them behind. */
const holding =
  (signal: AbortSignal, count: number, keep = false) =>
  async () => {
    const listeners = Array.from({ length: count }, () => () => {});
    for (const listener of listeners) signal.addEventListener('abort', listener);
    await setImmediate();
    if (!keep) for (const listener of listeners) signal.removeEventListener('abort', listener);
  };

test('tasks at once holding a few abort listeners each make no MaxListenersExceededWarning', async (t) => {
  const { signal } = new AbortController();
  const items = Array.from({ length: 32 }, (_, i) => i);
  const warnings = await listenerWarnings(signal, () => runPool(items, 16, signal, holding(signal, 4)));
  t.is(warnings, 0, '16 tasks x 4 listeners are no leak');
});

test('listeners that pile up past what the tasks at once may hold still warn', async (t) => {
  const { signal } = new AbortController();
  const items = Array.from({ length: 32 }, (_, i) => i);
  const warnings = await listenerWarnings(signal, () => runPool(items, 2, signal, holding(signal, 4, true)));
  t.is(warnings, 1, '128 listeners left behind by 2 tasks at once are a leak');
});
