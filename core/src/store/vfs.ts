import * as nodeFs from 'node:fs';

/**
 * The filesystem the store works on, injected so tests can use memfs or a fault-injecting wrapper
 * (pebble's vfs). This file is the only one in the store that imports node:fs.
 *
 * Durability semantics the store relies on:
 * - `writeSync` returns once the bytes are in the operating system's page cache: they survive the
 *   process being killed, not a power loss.
 * - `fsyncSync` / `fdatasync` make a file's written bytes durable across power loss.
 * - `renameSync` replaces the target atomically; the rename itself is durable once the directory is
 *   fsynced (`openSync(dir, 'r')` + `fsyncSync`).
 */
export interface StoreFs {
  openSync(path: string, flags: string): number;
  closeSync(fd: number): void;
  /** Closes off the main thread: the last close of a deleted file frees its blocks, which takes a while. */
  close(fd: number, callback: (error: NodeJS.ErrnoException | null) => void): void;
  /** Writes at `position`, or at the file's end for a file opened with `'a'` when position is null. */
  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number | null): number;
  readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number;
  fsyncSync(fd: number): void;
  fdatasync(fd: number, callback: (error: NodeJS.ErrnoException | null) => void): void;
  ftruncateSync(fd: number, length: number): void;
  fstatSync(fd: number): { readonly size: number };
  renameSync(from: string, to: string): void;
  unlinkSync(path: string): void;
  readdirSync(path: string): string[];
  mkdirSync(path: string, options: { recursive: true }): unknown;
  readFileSync(path: string): Buffer;
}

/** The real filesystem. */
export const realFs: StoreFs = nodeFs as unknown as StoreFs;

/** Makes the directory entries of `dir` (creates, renames, deletes) durable. Best effort where unsupported. */
export function syncDirectory(fs: StoreFs, dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Some filesystems cannot fsync a directory; file contents are synced regardless.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Writes all of `buffer` at `position` (or appends when null), looping over short writes. */
export function writeFully(fs: StoreFs, fd: number, buffer: Uint8Array, position: number | null): void {
  for (let offset = 0; offset < buffer.length; ) {
    const written = fs.writeSync(
      fd,
      buffer,
      offset,
      buffer.length - offset,
      position === null ? null : position + offset,
    );
    offset += written;
  }
}

/** Reads exactly `length` bytes at `position`; fewer means the file is shorter than expected. */
export function readFully(fs: StoreFs, fd: number, length: number, position: number): Buffer {
  const buffer = Buffer.allocUnsafe(length);
  let offset = 0;
  while (offset < length) {
    const read = fs.readSync(fd, buffer, offset, length - offset, position + offset);
    if (read === 0) return buffer.subarray(0, offset);
    offset += read;
  }
  return buffer;
}
