/** How far a backup or restore has come, in bytes of the files it moves (before compression). */
export interface Progress {
  readonly doneBytes: number;
  readonly totalBytes: number;
}

/** Counts bytes as they move. */
export class ProgressCounter {
  #done = 0;
  #total = 0;

  setTotal(bytes: number): void {
    this.#total = bytes;
  }

  add(bytes: number): void {
    this.#done += bytes;
  }

  snapshot(): Progress {
    return { doneBytes: this.#done, totalBytes: this.#total };
  }
}
