import { setImmediate } from 'node:timers/promises';

/**
 * How long request work may hold the event loop before it lets other callbacks run. Awaiting a
 * resolved promise does not count: it runs as a microtask, before any I/O.
 */
export const SLICE_MS = 2;

/**
 * Cuts long synchronous work (a large batch, a large body) into slices, so the node keeps answering
 * other requests, its liveness probe first, while it runs. Between units of work:
 * `if (slice.due) await slice.next();`.
 */
export class TimeSlice {
  readonly #ms: number;
  #started = performance.now();

  constructor(ms = SLICE_MS) {
    this.#ms = ms;
  }

  /** True once the current slice has run for its time. */
  get due(): boolean {
    return performance.now() - this.#started >= this.#ms;
  }

  /** Lets timers and I/O run (a turn of the event loop), then starts the next slice. */
  async next(): Promise<void> {
    await setImmediate();
    this.#started = performance.now();
  }
}
