import { type DataFs, realDataFs } from '../../../src/db/data-fs.js';

/**
 * A DataFs over another (the real one by default) for the database's failure tests: it records every
 * call that changes the filesystem, and can make one of them fail (`failAt`), every one from some
 * point fail (`failFrom`, a disk gone bad), or the process "crash" at one (`crashAt`): that call
 * throws, and it and every later change are dropped, so what the filesystem holds afterwards is what
 * a kill at that point would leave. Reads always go through.
 *
 * Calls are numbered from 1, from the last `record`, `failAt`, `failFrom` or `crashAt`.
 */

/** One call that changes the filesystem: what it does, to which path (and where to, for a rename or link). */
export interface FsCall {
  readonly op:
    | 'open'
    | 'write'
    | 'fsync'
    | 'truncate'
    | 'rename'
    | 'unlink'
    | 'mkdir'
    | 'link'
    | 'copy'
    | 'rmdir'
    | 'rm';
  readonly path: string;
  readonly to?: string;
}

function failure(code: string, call: FsCall): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: injected at ${call.op} ${call.path}`), { code });
}

/** Flags that create, truncate or append: an open that changes the filesystem. */
const WRITING = /[wax]/;

export class FaultyFs implements DataFs {
  readonly #inner: DataFs;
  /** Which path each open descriptor is of, so an fsync can name it. */
  readonly #paths = new Map<number, string>();
  #calls: FsCall[] = [];
  #fails: (n: number) => boolean = () => false;
  #crash = Number.POSITIVE_INFINITY;

  constructor(inner: DataFs = realDataFs) {
    this.#inner = inner;
  }

  /** The changing calls since the last record, failAt, failFrom or crashAt. */
  get calls(): readonly FsCall[] {
    return this.#calls;
  }

  /** Starts a new record, failing nothing. */
  record(): void {
    this.#arm(() => false, Number.POSITIVE_INFINITY);
  }

  /** Makes changing call `n` fail with EIO, without doing it; the calls after it go through. */
  failAt(n: number): void {
    this.#arm((i) => i === n, Number.POSITIVE_INFINITY);
  }

  /** Makes changing call `n` and every one after it fail with EIO. */
  failFrom(n: number): void {
    this.#arm((i) => i >= n, Number.POSITIVE_INFINITY);
  }

  /** Crashes at changing call `n`: it throws ECRASH, and neither it nor any later change happens. */
  crashAt(n: number): void {
    this.#arm(() => false, n);
  }

  openSync(path: string, flags: string): number {
    const open = () => {
      const fd = this.#inner.openSync(path, flags);
      this.#paths.set(fd, path);
      return fd;
    };
    if (!WRITING.test(flags)) return open();
    return this.#change({ op: 'open', path }, open, () => {
      throw failure('ECRASH', { op: 'open', path });
    });
  }

  closeSync(fd: number): void {
    this.#paths.delete(fd);
    this.#inner.closeSync(fd);
  }

  close(fd: number, callback: (error: NodeJS.ErrnoException | null) => void): void {
    this.#paths.delete(fd);
    this.#inner.close(fd, callback);
  }

  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number | null): number {
    return this.#change(
      { op: 'write', path: this.#pathOf(fd) },
      () => this.#inner.writeSync(fd, buffer, offset, length, position),
      () => length,
    );
  }

  readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number {
    return this.#inner.readSync(fd, buffer, offset, length, position);
  }

  fsyncSync(fd: number): void {
    this.#change({ op: 'fsync', path: this.#pathOf(fd) }, () => this.#inner.fsyncSync(fd));
  }

  fdatasync(fd: number, callback: (error: NodeJS.ErrnoException | null) => void): void {
    try {
      this.#change(
        { op: 'fsync', path: this.#pathOf(fd) },
        () => this.#inner.fdatasync(fd, callback),
        () => setImmediate(() => callback(null)),
      );
    } catch (error) {
      setImmediate(() => callback(error as NodeJS.ErrnoException));
    }
  }

  ftruncateSync(fd: number, length: number): void {
    this.#change({ op: 'truncate', path: this.#pathOf(fd) }, () => this.#inner.ftruncateSync(fd, length));
  }

  fstatSync(fd: number): { readonly size: number } {
    return this.#inner.fstatSync(fd);
  }

  renameSync(from: string, to: string): void {
    this.#change({ op: 'rename', path: from, to }, () => this.#inner.renameSync(from, to));
  }

  unlinkSync(path: string): void {
    this.#change({ op: 'unlink', path }, () => this.#inner.unlinkSync(path));
  }

  readdirSync(path: string): string[] {
    return this.#inner.readdirSync(path);
  }

  mkdirSync(path: string, options?: { recursive?: boolean }): unknown {
    return this.#change({ op: 'mkdir', path }, () => this.#inner.mkdirSync(path, options));
  }

  readFileSync(path: string): Buffer {
    return this.#inner.readFileSync(path);
  }

  linkSync(existing: string, newPath: string): void {
    this.#change({ op: 'link', path: existing, to: newPath }, () => this.#inner.linkSync(existing, newPath));
  }

  copyFileSync(source: string, destination: string): void {
    this.#change({ op: 'copy', path: source, to: destination }, () => this.#inner.copyFileSync(source, destination));
  }

  writeFileSync(path: string, data: string): void {
    this.#change({ op: 'write', path }, () => this.#inner.writeFileSync(path, data));
  }

  rmdirSync(path: string): void {
    this.#change({ op: 'rmdir', path }, () => this.#inner.rmdirSync(path));
  }

  readonly promises = {
    rm: async (path: string, options: { recursive: true; force: true }): Promise<void> => {
      this.#change({ op: 'rm', path }, () => {});
      await this.#inner.promises.rm(path, options);
    },
  };

  existsSync(path: string): boolean {
    return this.#inner.existsSync(path);
  }

  lstatSync(path: string): { isDirectory(): boolean } {
    return this.#inner.lstatSync(path);
  }

  #arm(fails: (n: number) => boolean, crash: number): void {
    this.#calls = [];
    this.#fails = fails;
    this.#crash = crash;
  }

  /** Records `call`, then does it, fails it, or (crashed) drops it, answering what `dropped` makes. */
  #change<T>(call: FsCall, perform: () => T, dropped: () => T = () => undefined as T): T {
    this.#calls.push(call);
    const n = this.#calls.length;
    if (n === this.#crash) throw failure('ECRASH', call);
    if (n > this.#crash) return dropped();
    if (this.#fails(n)) throw failure('EIO', call);
    return perform();
  }

  #pathOf(fd: number): string {
    return this.#paths.get(fd) ?? `fd ${fd}`;
  }
}
