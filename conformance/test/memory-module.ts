import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import {
  assertSafeKey,
  BACKUP_BACKEND,
  type BackendScope,
  type BackupBackend,
  type BackupModuleDefinition,
  type CallOptions,
  defineBackupModule,
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
] as const;
export type Defect = (typeof defects)[number];

const MiB = 1024 * 1024;
const shared = new Map<string, Buffer>();

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
    // Under a name core cannot know is secret: only a check of the log itself catches it.
    if (this.#defect === 'logs-its-token')
      this.#logger.debug({ request: { header: `Bearer ${this.#token}` } }, 'write');
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of body) {
        options?.signal?.throwIfAborted();
        chunks.push(chunk as Buffer);
      }
    } catch (error) {
      if (this.#defect === 'keeps-failed-writes') this.#objects.set(this.#id(key, options), Buffer.concat(chunks));
      throw error;
    }
    let data = Buffer.concat(chunks);
    if (this.#defect === 'truncates-large-objects') data = data.subarray(0, 64 * MiB);
    if (this.#defect === 'buffers-whole-object') {
      // Buffers the whole object, then keeps it on disk: memory a streaming backend would not use.
      const file = join(tmpdir(), `strata-memory-${randomBytes(6).toString('hex')}`);
      await writeFile(file, data);
      this.#files.set(this.#id(key, options), file);
      return data.length;
    }
    this.#objects.set(this.#id(key, options), data);
    return Buffer.concat(chunks).length;
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
  },
  register({ container, config, logger }) {
    container.register(BACKUP_BACKEND, {
      useValue: new MemoryBackend(config.defect as Defect, config.token, logger),
    });
  },
} satisfies BackupModuleDefinition;

export default defineBackupModule(memoryModule);

/** The same backend, declaring neither pathScope nor external: checks gated by them are skipped. */
export const localModule = defineBackupModule({
  ...memoryModule,
  name: 'backup-memory-local',
  capabilities: { external: false },
});
