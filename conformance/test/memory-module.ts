import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addAbortSignal, type Readable } from 'node:stream';
import {
  assertSafeKey,
  BACKUP_BACKEND,
  type BackendScope,
  type BackupBackend,
  type BackupModuleDefinition,
  type CallOptions,
  defineBackupModule,
  InvalidKeyError,
  MODULE_API_VERSION,
  type ModuleLogger,
  NotFoundError,
  type ObjectInfo,
  parsers,
} from '@strata/core';
import { streamOf } from '../src/index.js';

/**
 * The smallest correct backend, objects in memory, and one deliberately broken variant of it per
 * defect the suite must catch (`MEMORY_BACKEND_DEFECT`). Every instance shares one store, as the
 * nodes of a cluster share a bucket.
 */
export const defects = [
  'none',
  'untyped-not-found',
  'truncates-large-objects',
  'ignores-scope-path',
  'lists-unsorted',
  'drops-a-key-past-1000',
  'keeps-failed-writes',
  'delete-of-missing-throws',
  'accepts-unsafe-keys',
  'leaves-access-probe',
  'home-path-without-id',
  'instances-not-shared',
  'buffers-whole-object',
  'logs-its-token',
  'quotes-its-token',
  'discards-finished-objects',
  'discard-leaves-half-objects',
  'discards-outside-prefix',
  'discard-counts-finished-objects',
  'discard-accepts-any-prefix',
  // Hangs, for the deadlines: a write or a listing that never settles, whatever the signal says;
  // a chunk upload (as a node makes it) that stalls until its signal aborts.
  'write-never-settles',
  'list-never-settles',
  'chunk-writes-stall',
  // A write that never settles and holds a timer open, as a hung socket would (run in a child process).
  'write-hangs-open',
] as const;
export type Defect = (typeof defects)[number];

const MiB = 1024 * 1024;
const shared = new Map<string, Buffer>();

/** A write in progress: what it has received, kept apart from finished objects until it ends. */
interface Partial {
  readonly id: string;
  readonly chunks: Buffer[];
  discarded: boolean;
}
/** Writes in progress, shared as objects are; discardPartialWrites removes them. */
const partials = new Set<Partial>();

/** Waits until `signal` aborts, then rejects with its reason; for ever without one. */
function stalled(signal: AbortSignal | undefined): Promise<never> {
  return new Promise<never>((_, reject) => {
    signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

export class MemoryBackend implements BackupBackend {
  readonly #defect: Defect;
  readonly #objects: Map<string, Buffer>;
  readonly #files = new Map<string, string>();
  readonly #token: string | undefined;
  readonly #logger: ModuleLogger;

  constructor(defect: Defect, token: string | undefined, logger: ModuleLogger) {
    this.#defect = defect;
    this.#objects = defect === 'instances-not-shared' ? new Map() : shared;
    this.#token = token;
    this.#logger = logger;
  }

  homePath(backupId: string, scope?: BackendScope): string {
    this.#check(backupId);
    return `memory://${scope?.path ?? 'root'}${this.#defect === 'home-path-without-id' ? '' : `/${backupId}`}`;
  }

  async checkAccess(options?: CallOptions): Promise<void> {
    if (this.#defect === 'quotes-its-token') throw new Error(`access denied for ${this.#token}`);
    if (this.#defect === 'leaves-access-probe') this.#objects.set(this.#id('.probe', options), Buffer.alloc(1));
  }

  async write(key: string, body: Readable, options?: CallOptions): Promise<number> {
    this.#check(key);
    if (this.#defect === 'write-never-settles') return new Promise<never>(() => {});
    if (this.#defect === 'write-hangs-open') return new Promise<never>(() => setInterval(() => {}, 60_000));
    if (this.#defect === 'chunk-writes-stall' && /\/chunk-\d+$/.test(key)) await stalled(options?.signal);
    // Under a name core cannot know is secret: only a check of the log itself catches it.
    if (this.#defect === 'logs-its-token')
      this.#logger.debug({ request: { header: `Bearer ${this.#token}` } }, 'write');
    const signal = options?.signal;
    const partial: Partial = { id: this.#id(key, options), chunks: [], discarded: false };
    partials.add(partial);
    try {
      // Aborting destroys the source, so a write waiting on a source that stalls stops too.
      for await (const chunk of signal === undefined ? body : addAbortSignal(signal, body)) {
        partial.chunks.push(chunk as Buffer);
      }
    } catch (error) {
      if (this.#defect === 'keeps-failed-writes') this.#objects.set(partial.id, Buffer.concat(partial.chunks));
      throw signal?.aborted ? signal.reason : error;
    } finally {
      partials.delete(partial);
    }
    if (partial.discarded && this.#defect !== 'discard-leaves-half-objects') {
      throw new Error(`the write of "${key}" lost what it had received to discardPartialWrites()`);
    }
    let data = Buffer.concat(partial.chunks);
    if (this.#defect === 'truncates-large-objects') data = data.subarray(0, 64 * MiB);
    if (this.#defect === 'buffers-whole-object') {
      // Buffers the whole object, then keeps it on disk: memory a streaming backend would not use.
      const file = join(tmpdir(), `strata-memory-${randomBytes(6).toString('hex')}`);
      await writeFile(file, data);
      this.#files.set(partial.id, file);
      return data.length;
    }
    this.#objects.set(partial.id, data);
    return Buffer.concat(partial.chunks).length;
  }

  async discardPartialWrites(prefix: string, options?: CallOptions): Promise<number> {
    if (this.#defect !== 'discard-accepts-any-prefix' && prefix !== '') {
      if (!prefix.endsWith('/')) throw new InvalidKeyError(prefix, 'a prefix is "" or ends with "/"');
      assertSafeKey(prefix.slice(0, -1));
    }
    options?.signal?.throwIfAborted();
    // The outside-prefix defect reaches one directory up: far enough to be caught, not into other tests.
    const under = this.#id(
      this.#defect === 'discards-outside-prefix' ? prefix.replace(/[^/]*\/$/, '') : prefix,
      options,
    );
    let removed = 0;
    for (const partial of partials) {
      if (!partial.id.startsWith(under)) continue;
      removed++;
      // Drops what the write received; the half-object defect lets the write go on with the rest only.
      partial.chunks.length = 0;
      partial.discarded = true;
      partials.delete(partial);
    }
    for (const id of this.#objects.keys()) {
      if (!id.startsWith(under)) continue;
      if (this.#defect === 'discards-finished-objects') this.#objects.delete(id);
      if (this.#defect === 'discard-counts-finished-objects') removed++;
    }
    return removed;
  }

  async read(key: string, options?: CallOptions): Promise<Readable> {
    this.#check(key);
    const file = this.#files.get(this.#id(key, options));
    if (file !== undefined) return createReadStream(file);
    const data = this.#objects.get(this.#id(key, options));
    if (data !== undefined) return streamOf(data);
    if (this.#defect === 'untyped-not-found') throw new Error(`no such object ${key}`);
    throw new NotFoundError(key, 'memory');
  }

  async *list(prefix: string, options?: CallOptions): AsyncIterable<ObjectInfo> {
    if (this.#defect === 'list-never-settles') await new Promise<never>(() => {});
    const root = this.#id('', options);
    let ids = [...this.#objects.keys()].filter((id) => id.startsWith(root + prefix));
    if (this.#defect !== 'lists-unsorted') ids.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    if (this.#defect === 'drops-a-key-past-1000') ids = ids.filter((_, i) => i !== 1000);
    for (const id of ids) yield { key: id.slice(root.length), size: this.#objects.get(id)?.length ?? 0 };
  }

  async delete(key: string, options?: CallOptions): Promise<void> {
    this.#check(key);
    const id = this.#id(key, options);
    const file = this.#files.get(id);
    if (file !== undefined) await rm(file, { force: true });
    this.#files.delete(id);
    if (this.#defect === 'delete-of-missing-throws' && !this.#objects.has(id)) throw new Error(`no such object ${key}`);
    this.#objects.delete(id);
  }

  #check(key: string): void {
    if (this.#defect !== 'accepts-unsafe-keys') assertSafeKey(key);
  }

  #id(key: string, options?: CallOptions): string {
    const path = this.#defect === 'ignores-scope-path' ? undefined : options?.scope?.path;
    return `${path ?? ''}\0${key}`;
  }
}

/** `backend` without its optional discardPartialWrites. */
function withoutDiscard(backend: MemoryBackend): BackupBackend {
  return {
    homePath: (backupId, scope) => backend.homePath(backupId, scope),
    checkAccess: (options) => backend.checkAccess(options),
    write: (key, body, options) => backend.write(key, body, options),
    read: (key, options) => backend.read(key, options),
    list: (prefix, options) => backend.list(prefix, options),
    delete: (key, options) => backend.delete(key, options),
  };
}

const memoryModule = {
  name: 'backup-memory',
  altNames: ['memory'],
  apiVersion: MODULE_API_VERSION,
  capabilities: { external: true, pathScope: 'prefix' },
  config: {
    defect: {
      name: 'MEMORY_BACKEND_DEFECT',
      description: 'The defect to build in, to prove the conformance suite catches it.',
      default: 'none',
      parse: parsers.oneOf(defects),
    },
    token: {
      name: 'MEMORY_BACKEND_TOKEN',
      secret: true,
      description: 'A credential the backend does not need, for the suite to look for in what it logs.',
    },
    discards: {
      name: 'MEMORY_BACKEND_DISCARDS',
      description: 'False leaves out discardPartialWrites, which the contract makes optional.',
      default: true,
      parse: parsers.boolean,
    },
  },
  register({ container, config, logger }) {
    const backend = new MemoryBackend(config.defect as Defect, config.token, logger);
    container.register(BACKUP_BACKEND, { useValue: config.discards ? backend : withoutDiscard(backend) });
  },
} satisfies BackupModuleDefinition;

export default defineBackupModule(memoryModule);

/** The same backend, declaring neither pathScope nor external: checks gated by them are skipped. */
export const localModule = defineBackupModule({
  ...memoryModule,
  name: 'backup-memory-local',
  capabilities: { external: false },
});
