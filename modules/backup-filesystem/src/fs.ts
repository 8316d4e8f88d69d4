import * as nodeFs from 'node:fs';
import type { Readable } from 'node:stream';

/** The parts of an open file the backend uses (a subset of node:fs/promises FileHandle). */
export interface BackendFileHandle {
  write(buffer: Uint8Array, offset: number, length: number): Promise<{ bytesWritten: number }>;
  sync(): Promise<void>;
  stat(): Promise<{ isDirectory(): boolean }>;
  close(): Promise<void>;
  createReadStream(options?: { signal?: AbortSignal | undefined; highWaterMark?: number }): Readable;
}

/** A directory entry (a subset of node:fs Dirent). */
export interface BackendDirent {
  readonly name: string;
  isFile(): boolean;
  isDirectory(): boolean;
}

/**
 * The filesystem the backend works on: node:fs in production, memfs (or a fault-injecting wrapper) in
 * tests. Only these calls are used, so any implementation of them will do.
 */
export interface BackendFs {
  readonly promises: {
    mkdir(path: string, options: { recursive: true }): Promise<unknown>;
    open(path: string, flags: 'r' | 'wx'): Promise<BackendFileHandle>;
    rename(from: string, to: string): Promise<void>;
    unlink(path: string): Promise<void>;
    rmdir(path: string): Promise<void>;
    readdir(path: string, options: { withFileTypes: true }): Promise<BackendDirent[]>;
    stat(path: string): Promise<{ readonly size: number }>;
  };
}

/** The real filesystem. */
export const realFs: BackendFs = nodeFs as unknown as BackendFs;
