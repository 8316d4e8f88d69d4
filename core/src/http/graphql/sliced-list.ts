/**
 * A list answered by a resolver whose items graphql-js completes a batch per turn of the event loop.
 * graphql-js completes a list's items synchronously, in one go: the 10,000 objects of a Get held the
 * loop for 100 ms. Items that are promises are completed when they resolve, so the items of each batch
 * after the first wait for one more turn than the batch before.
 */
import { setImmediate } from 'node:timers/promises';

/** Items per batch: completing 200 objects of a few fields takes about 2 ms. */
export const LIST_BATCH = 200;

/** `items`, the first {@link LIST_BATCH} as they are and each further batch behind one more turn. */
export function slicedList<T>(items: readonly T[]): ReadonlyArray<T | Promise<T>> {
  if (items.length <= LIST_BATCH) return items;
  const sliced: Array<T | Promise<T>> = items.slice(0, LIST_BATCH);
  let turn: Promise<unknown> = Promise.resolve();
  for (let start = LIST_BATCH; start < items.length; start += LIST_BATCH) {
    turn = turn.then(() => setImmediate());
    const gate = turn;
    for (let i = start; i < Math.min(start + LIST_BATCH, items.length); i++) {
      sliced.push(gate.then(() => items[i] as T));
    }
  }
  return sliced;
}
