import { posix } from 'node:path';
import type { StoreFs } from '../../../src/store/vfs.js';

/**
 * An in-memory filesystem for crash tests (pebble's crashable MemFS): it remembers, for every file,
 * the bytes last made durable by fsync/fdatasync, and for every directory the entries last made
 * durable by fsyncing the directory. `crash()` returns the filesystem a power failure would leave:
 * durable entries only, each holding its durable bytes. A process kill, by contrast, loses nothing
 * the operating system was given: use the live filesystem for that.
 *
 * It can also fail the Nth write (`failWriteAfter`), writing part of it first, as a full disk does.
 * Directories are created durably (a simplification: the store creates them once, at open).
 */

interface Inode {
  data: Buffer;
  durable: Buffer;
}

interface Directory {
  live: Map<string, Inode>;
  durable: Map<string, Inode>;
}

function errno(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${message}`), { code });
}

export class CrashableFs implements StoreFs {
  readonly #dirs = new Map<string, Directory>();
  readonly #fds = new Map<number, Inode>();
  /** Open directory handles: fsyncing one makes that directory's entries durable. */
  readonly #directoryFds = new Map<number, string>();
  #nextFd = 3;
  #writesUntilFailure = Number.POSITIVE_INFINITY;
  #partialBytes = 0;

  constructor() {
    this.#dirs.set('/', { live: new Map(), durable: new Map() });
  }

  /** Makes the write after `writes` more writes fail with ENOSPC, having written `partialBytes` of it. */
  failWriteAfter(writes: number, partialBytes = 0): void {
    this.#writesUntilFailure = writes;
    this.#partialBytes = partialBytes;
  }

  /** The filesystem a power failure would leave behind now. */
  crash(): CrashableFs {
    const after = new CrashableFs();
    for (const [path, dir] of this.#dirs) {
      const live = new Map<string, Inode>();
      for (const [name, inode] of dir.durable)
        live.set(name, { data: Buffer.from(inode.durable), durable: Buffer.from(inode.durable) });
      after.#dirs.set(path, { live, durable: new Map(live) });
    }
    return after;
  }

  /** Live names in `dir` (for assertions). */
  list(dir: string): string[] {
    return [...this.#dir(dir).live.keys()].sort();
  }

  /** Overwrites bytes of a file in place, live and durable (simulates bit rot). */
  corrupt(path: string, offset: number, bytes: Buffer): void {
    const inode = this.#lookup(path);
    bytes.copy(inode.data, offset);
    bytes.copy(inode.durable, offset);
  }

  /** A file's live bytes. */
  contents(path: string): Buffer {
    return Buffer.from(this.#lookup(path).data);
  }

  openSync(path: string, flags: string): number {
    if (this.#dirs.has(posix.normalize(path))) {
      const fd = this.#nextFd++;
      this.#fds.set(fd, { data: Buffer.alloc(0), durable: Buffer.alloc(0) });
      this.#directoryFds.set(fd, posix.normalize(path));
      return fd;
    }
    const { dir, name } = this.#split(path);
    let inode = dir.live.get(name);
    if (flags.includes('x') && inode !== undefined) throw errno('EEXIST', path);
    if (inode === undefined) {
      if (!flags.includes('w') && !flags.includes('a')) throw errno('ENOENT', path);
      inode = { data: Buffer.alloc(0), durable: Buffer.alloc(0) };
      dir.live.set(name, inode);
    } else if (flags.includes('w')) {
      inode.data = Buffer.alloc(0);
    }
    const fd = this.#nextFd++;
    this.#fds.set(fd, inode);
    return fd;
  }

  closeSync(fd: number): void {
    this.#inode(fd);
    this.#fds.delete(fd);
    this.#directoryFds.delete(fd);
  }

  close(fd: number, callback: (error: NodeJS.ErrnoException | null) => void): void {
    this.closeSync(fd);
    queueMicrotask(() => callback(null));
  }

  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number | null): number {
    const inode = this.#inode(fd);
    let count = length;
    if (this.#writesUntilFailure-- <= 0) {
      count = Math.min(this.#partialBytes, length);
      this.#writesUntilFailure = Number.POSITIVE_INFINITY;
      this.#put(inode, buffer.subarray(offset, offset + count), position ?? inode.data.length);
      throw errno('ENOSPC', 'no space left on device (injected)');
    }
    this.#put(inode, buffer.subarray(offset, offset + count), position ?? inode.data.length);
    return count;
  }

  readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number {
    const inode = this.#inode(fd);
    const available = Math.max(0, Math.min(length, inode.data.length - position));
    inode.data.copy(buffer, offset, position, position + available);
    return available;
  }

  fsyncSync(fd: number): void {
    this.#syncFd(fd);
  }

  fdatasync(fd: number, callback: (error: NodeJS.ErrnoException | null) => void): void {
    try {
      this.#syncFd(fd);
      setImmediate(() => callback(null));
    } catch (error) {
      setImmediate(() => callback(error as NodeJS.ErrnoException));
    }
  }

  ftruncateSync(fd: number, length: number): void {
    const inode = this.#inode(fd);
    inode.data = Buffer.from(inode.data.subarray(0, length));
  }

  fstatSync(fd: number): { size: number } {
    return { size: this.#inode(fd).data.length };
  }

  renameSync(from: string, to: string): void {
    const source = this.#split(from);
    const target = this.#split(to);
    const inode = source.dir.live.get(source.name);
    if (inode === undefined) throw errno('ENOENT', from);
    source.dir.live.delete(source.name);
    target.dir.live.set(target.name, inode);
  }

  unlinkSync(path: string): void {
    const { dir, name } = this.#split(path);
    if (!dir.live.delete(name)) throw errno('ENOENT', path);
  }

  readdirSync(path: string): string[] {
    return [...this.#dir(path).live.keys()];
  }

  mkdirSync(path: string): void {
    let current = '/';
    for (const part of posix.normalize(path).split('/').filter(Boolean)) {
      current = posix.join(current, part);
      if (!this.#dirs.has(current)) this.#dirs.set(current, { live: new Map(), durable: new Map() });
    }
  }

  readFileSync(path: string): Buffer {
    return Buffer.from(this.#lookup(path).data);
  }

  #syncFd(fd: number): void {
    const inode = this.#inode(fd);
    inode.durable = Buffer.from(inode.data);
    const directory = this.#directoryFds.get(fd);
    if (directory !== undefined) this.#dir(directory).durable = new Map(this.#dir(directory).live);
  }

  #put(inode: Inode, bytes: Uint8Array, position: number): void {
    const end = position + bytes.length;
    if (end > inode.data.length) {
      const grown = Buffer.alloc(end);
      inode.data.copy(grown);
      inode.data = grown;
    }
    Buffer.from(bytes).copy(inode.data, position);
  }

  #inode(fd: number): Inode {
    const inode = this.#fds.get(fd);
    if (inode === undefined) throw errno('EBADF', `fd ${fd}`);
    return inode;
  }

  #dir(path: string): Directory {
    const dir = this.#dirs.get(posix.normalize(path));
    if (dir === undefined) throw errno('ENOENT', path);
    return dir;
  }

  #split(path: string): { dir: Directory; name: string } {
    const normalized = posix.normalize(path);
    return { dir: this.#dir(posix.dirname(normalized)), name: posix.basename(normalized) };
  }

  #lookup(path: string): Inode {
    const { dir, name } = this.#split(path);
    const inode = dir.live.get(name);
    if (inode === undefined) throw errno('ENOENT', path);
    return inode;
  }
}
