/**
 * The events of one operation, kept in order: each reader gets every event from the first, so a
 * reader that starts late misses none. An operation has a handful of events; they are not trimmed.
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

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    for (let next = 0; ; ) {
      while (next < this.#events.length) yield this.#events[next++] as T;
      if (this.#closed) return;
      await new Promise<void>((resolve) => this.#wake.push(resolve));
    }
  }
}
