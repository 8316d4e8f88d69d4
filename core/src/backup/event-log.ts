/**
 * The events of one operation, kept in order: each reader gets every event from the first, so a
 * reader that starts late misses none. An operation has a handful of events; they are not trimmed.
 * Besides iterating, a reader may read by index ({@link EventLog.from}, {@link EventLog.wait}), as the
 * internal API does for a coordinator on another node that polls from the last index it has.
 */
export class EventLog<T> {
  readonly #events: T[] = [];
  #closed = false;
  #wake: Array<() => void> = [];

  /** Appends `event`; `last` closes the log after it. */
  push(event: T, last = false): void {
    if (this.#closed) throw new TypeError('EventLog: push after the last event');
    this.#events.push(event);
    this.#closed = last;
    for (const wake of this.#wake.splice(0)) wake();
  }

  /** How many events the log holds. */
  get length(): number {
    return this.#events.length;
  }

  /** True once the last event is in. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The events from index `index` (0: the first) that are in now; none past the end. */
  from(index: number): T[] {
    return this.#events.slice(index);
  }

  /**
   * Resolves once the log holds an event at `index` or is closed, or after `ms`, or when `signal`
   * aborts, whichever comes first. Never rejects; the caller reads what there is with {@link from}.
   */
  async wait(index: number, ms: number, signal?: AbortSignal): Promise<void> {
    if (index < this.#events.length || this.#closed || ms <= 0 || signal?.aborted) return;
    let wake = () => {};
    let over = false;
    const end = () => {
      over = true;
      wake();
    };
    const timer = setTimeout(end, ms);
    signal?.addEventListener('abort', end, { once: true });
    while (!over && index >= this.#events.length && !this.#closed) {
      await new Promise<void>((resolve) => {
        wake = resolve;
        this.#wake.push(resolve);
      });
    }
    clearTimeout(timer);
    signal?.removeEventListener('abort', end);
    // Ended by the timer or the signal: no push will take its wake-up out.
    const waiting = this.#wake.indexOf(wake);
    if (waiting !== -1) this.#wake.splice(waiting, 1);
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    for (let next = 0; ; ) {
      while (next < this.#events.length) yield this.#events[next++] as T;
      if (this.#closed) return;
      await new Promise<void>((resolve) => this.#wake.push(resolve));
    }
  }
}
