import { join } from 'node:path';
import { walFileName } from './filenames.js';
import { type StoreFs, syncDirectory, writeFully } from './vfs.js';

/**
 * The write-ahead log file being appended to. Appends are synchronous `write` calls, so when one
 * returns the record is in the operating system's hands and survives the process being killed.
 * `sync()` makes it survive power loss. Not safe for concurrent appends; the commit queue
 * serialises them.
 */
export class WalFile {
  readonly number: number;
  readonly #fs: StoreFs;
  readonly #fd: number;
  #size = 0;
  #dirty = false;
  #syncsInFlight = 0;
  #closeWhenSynced = false;

  private constructor(fs: StoreFs, fd: number, number: number) {
    this.#fs = fs;
    this.#fd = fd;
    this.number = number;
  }

  /** Creates WAL `number` in `dir` (it must not exist) and makes its directory entry durable. */
  static create(fs: StoreFs, dir: string, number: number): WalFile {
    const fd = fs.openSync(join(dir, walFileName(number)), 'wx');
    syncDirectory(fs, dir);
    return new WalFile(fs, fd, number);
  }

  /** Bytes appended so far. */
  get size(): number {
    return this.#size;
  }

  /** True when bytes were appended since the last sync. */
  get dirty(): boolean {
    return this.#dirty;
  }

  /**
   * Appends `data`. If the write fails part-way, the file is truncated back to where it was, so no
   * partial record precedes later ones; if even that fails, the error says so and the file must not
   * be appended to again.
   */
  append(data: Uint8Array): void {
    try {
      writeFully(this.#fs, this.#fd, data, this.#size);
    } catch (error) {
      try {
        this.#fs.ftruncateSync(this.#fd, this.#size);
      } catch (undo) {
        throw Object.assign(new Error(`${(error as Error).message}; undoing the partial write failed too`), {
          cause: undo,
          unrecoverable: true,
        });
      }
      throw error;
    }
    this.#size += data.length;
    this.#dirty = true;
  }

  /** Makes every byte appended so far durable (fdatasync, off the main thread). */
  sync(): Promise<void> {
    this.#dirty = false;
    this.#syncsInFlight++;
    return new Promise((resolve, reject) => {
      this.#fs.fdatasync(this.#fd, (error) => {
        if (--this.#syncsInFlight === 0 && this.#closeWhenSynced) this.#fs.closeSync(this.#fd);
        if (error === null) resolve();
        else reject(error);
      });
    });
  }

  /** Syncs if asked and needed, then closes the file (once any sync in flight has finished). */
  close(sync: boolean): void {
    if (sync && this.#dirty) this.#fs.fsyncSync(this.#fd);
    if (this.#syncsInFlight > 0) this.#closeWhenSynced = true;
    else this.#fs.closeSync(this.#fd);
  }
}
