import type { Readable } from 'node:stream';
import type { BackendScope, BackupBackend, CallOptions, ObjectInfo } from '@strata/core';

/**
 * A backend seen through a key prefix: every key gains `<prefix>/` on the way in and loses it on the
 * way out. The suite runs each check under a random prefix of its own this way, so it can use a real
 * bucket or directory that holds other data, and checks running at once never meet.
 */
export class PrefixedBackend implements BackupBackend {
  readonly #inner: BackupBackend;
  readonly #prefix: string;
  /** Present when the inner backend has it, so checks gated on it see the same backend. */
  readonly discardPartialWrites?: (prefix: string, options?: CallOptions) => Promise<number>;

  constructor(inner: BackupBackend, prefix: string) {
    this.#inner = inner;
    this.#prefix = `${prefix}/`;
    const discard = inner.discardPartialWrites?.bind(inner);
    if (discard !== undefined) this.discardPartialWrites = (prefix, options) => discard(this.#prefix + prefix, options);
  }

  homePath(backupId: string, scope?: BackendScope): string {
    return this.#inner.homePath(this.#prefix + backupId, scope);
  }

  checkAccess(options?: CallOptions): Promise<void> {
    return this.#inner.checkAccess(options);
  }

  write(key: string, body: Readable, options?: CallOptions): Promise<number> {
    return this.#inner.write(this.#prefix + key, body, options);
  }

  read(key: string, options?: CallOptions): Promise<Readable> {
    return this.#inner.read(this.#prefix + key, options);
  }

  async *list(prefix: string, options?: CallOptions): AsyncIterable<ObjectInfo> {
    for await (const object of this.#inner.list(this.#prefix + prefix, options)) {
      yield { ...object, key: object.key.slice(this.#prefix.length) };
    }
  }

  delete(key: string, options?: CallOptions): Promise<void> {
    return this.#inner.delete(this.#prefix + key, options);
  }
}
