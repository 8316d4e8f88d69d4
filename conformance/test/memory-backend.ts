import type { Readable } from 'node:stream';
import {
  assertSafeKey,
  type BackendScope,
  type BackupBackend,
  type CallOptions,
  NotFoundError,
  type ObjectInfo,
} from '@strata/core';
import { streamOf } from '../src/index.js';

/**
 * The smallest correct backend: objects in a Map keyed by scope path and key. The suite must pass
 * against it; deliberately broken variants of it must fail.
 */
export class MemoryBackend implements BackupBackend {
  readonly objects = new Map<string, Buffer>();

  homePath(backupId: string, scope?: BackendScope): string {
    assertSafeKey(backupId);
    return `memory://${scope?.path ?? 'root'}/${backupId}`;
  }

  async checkAccess(): Promise<void> {}

  async write(key: string, body: Readable, options?: CallOptions): Promise<number> {
    assertSafeKey(key);
    const chunks: Buffer[] = [];
    for await (const chunk of body) {
      options?.signal?.throwIfAborted();
      chunks.push(chunk as Buffer);
    }
    const data = Buffer.concat(chunks);
    this.objects.set(this.#id(key, options), data);
    return data.length;
  }

  async read(key: string, options?: CallOptions): Promise<Readable> {
    assertSafeKey(key);
    const data = this.objects.get(this.#id(key, options));
    if (data === undefined) throw new NotFoundError(key, 'memory');
    return streamOf(data);
  }

  async *list(prefix: string, options?: CallOptions): AsyncIterable<ObjectInfo> {
    const root = this.#id('', options);
    const keys = [...this.objects.keys()]
      .filter((id) => id.startsWith(root + prefix))
      .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    for (const id of keys) yield { key: id.slice(root.length), size: this.objects.get(id)?.length ?? 0 };
  }

  async delete(key: string, options?: CallOptions): Promise<void> {
    assertSafeKey(key);
    this.objects.delete(this.#id(key, options));
  }

  #id(key: string, options?: CallOptions): string {
    return `${options?.scope?.path ?? ''}\0${key}`;
  }
}
