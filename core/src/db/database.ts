import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, renameSync, rmdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  ClassExistsError,
  ClassNotFoundError,
  DataPathLockedError,
  InvalidObjectIdError,
  NamedVectorsNotObjectError,
  ObjectClassMismatchError,
  ObjectClassMissingError,
  ObjectExistsError,
  ObjectIdMismatchError,
  ObjectNotFoundError,
  ObjectTooLargeError,
  QueryLimitError,
  QueryPageTooLargeError,
  TenantUnsupportedError,
  TooManyNamedVectorsError,
} from '../errors.js';
import {
  acquireLock,
  type BatchOperation,
  type Cursor,
  type Entry,
  realFs,
  type StoreFactory,
  syncDirectory,
} from '../store/index.js';
import { TimeSlice } from '../time-slice.js';
import { type ClassDefinition, capitalizeClassName, normalizeClass } from './class-definition.js';
import { isStoreFilePath, SHARD_NAME, STORE_FILE_PATH_RULE } from './names.js';
import { OBJECT_LIMITS, validateProperties, validateVector } from './object-validation.js';
import { type ClassRecord, loadSchema, type SchemaState, saveSchema } from './schema-file.js';
import { Shard, shardIndex } from './shard.js';
import { decodeObject, encodeObject, OBJECTS_BUCKET, type StoredObject } from './stored-object.js';
import { isUuid, newUuid, uuidBytes } from './uuid.js';

/** What the node is configured with. */
export interface DatabaseOptions {
  /** PERSISTENCE_DATA_PATH: where schema.json and the class directories live. */
  readonly dataPath: string;
  /** CLUSTER_HOSTNAME: the node that owns the shards this node creates. */
  readonly nodeName: string;
  readonly storeFactory: StoreFactory;
  /** Where unexpected leftovers are reported. */
  readonly warn?: (fields: object, message: string) => void;
}

/** An object as a request gives it (POST /v1/objects, PUT, PATCH, batch). */
export interface ObjectInput {
  readonly class?: unknown;
  readonly id?: unknown;
  readonly properties?: unknown;
  readonly vector?: unknown;
  readonly vectors?: unknown;
  readonly tenant?: unknown;
}

/** A class as a backup captures it: its definition and, per shard, the files of its flushed state. */
export interface ClassSnapshot {
  readonly definition: ClassDefinition;
  readonly shards: ReadonlyArray<{
    readonly name: string;
    readonly node: string;
    /** `path` is relative to the data path ("/" separators); `source` is the staged hard link. */
    readonly files: ReadonlyArray<{ readonly path: string; readonly source: string; readonly size: number }>;
  }>;
}

/** A class restored into a staging directory, ready to be attached. */
export interface StagedClass {
  readonly definition: ClassDefinition;
  /** `directory` holds the shard's files, as its store directory will. */
  readonly shards: ReadonlyArray<{ readonly name: string; readonly node: string; readonly directory: string }>;
}

/** The outcome of one object of a batch. */
export type BatchResult = { readonly object: StoredObject } | { readonly input: ObjectInput; readonly error: Error };

/**
 * A store batch is applied in one go, so a request's batch is written in store batches of at most
 * this many objects or bytes: 500 small objects take a few milliseconds, 100,000 held the event loop
 * for a quarter of a second, and 500 objects with 1536-dimension vectors (15 MB) for 50 ms.
 */
const STORE_BATCH_OBJECTS = 500;
const STORE_BATCH_BYTES = 1024 * 1024;

/** The objects of one `GET /v1/objects` page may take at most this many bytes (stored): they are all answered at once. */
export const MAX_PAGE_BYTES = 64 * 1024 * 1024;

/** A `GET /v1/objects` page as it fills: objects still to pass over, those taken, their bytes. */
interface Page {
  skip: number;
  readonly objects: StoredObject[];
  bytes: number;
  readonly slice: TimeSlice;
}

/** Weaviate's QUERY_MAXIMUM_RESULTS default: offset + limit may not exceed it. */
export const QUERY_MAXIMUM_RESULTS = 10_000;
/** Directories in the data path that are not classes. */
const ORPHANS = '.orphaned';

interface LiveClass {
  record: ClassRecord;
  readonly shards: Shard[];
  /** Requests using the class right now; deletion waits for them. */
  active: number;
  drained?: () => void;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Hard-links `from` to `to`, or copies it where the filesystem cannot link (another device, no support). */
function linkOrCopy(from: string, to: string): void {
  try {
    linkSync(from, to);
  } catch {
    copyFileSync(from, to);
  }
}

/** `object` encoded for the store; refused when larger than an object may be (a merge can grow one). */
function encodeLimited(object: StoredObject): Buffer {
  const value = encodeObject(object);
  if (value.length > OBJECT_LIMITS.bytes) throw new ObjectTooLargeError(value.length, OBJECT_LIMITS.bytes);
  return value;
}

/** A random shard name, as Weaviate's: 12 letters and digits. */
function shardName(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(12)].map((byte) => alphabet[byte % alphabet.length]).join('');
}

/**
 * The node's classes and objects. Each class has one or more shards; each shard is a store of its
 * own under `<data path>/<class in lower case>/<shard>`, and objects are spread over shards by a hash
 * of their id. The schema is persisted in `schema.json` and survives restarts.
 *
 * Concurrency: every method may be called at any time. Deleting a class first makes it invisible to
 * new requests, then waits for the requests already using it before closing and removing its files.
 */
export class Database {
  readonly dataPath: string;
  readonly nodeName: string;
  readonly #factory: StoreFactory;
  readonly #release: () => void;
  readonly #classes = new Map<string, LiveClass>();
  /** Serialises schema changes, so schema.json is written by one change at a time. */
  #schemaChange: Promise<unknown> = Promise.resolve();

  private constructor(options: DatabaseOptions, release: () => void) {
    this.dataPath = options.dataPath;
    this.nodeName = options.nodeName;
    this.#factory = options.storeFactory;
    this.#release = release;
  }

  /**
   * Opens the data path: claims it (one node per data path), loads the schema and opens every shard.
   * Directories no class accounts for (left by a crash during a class deletion) are moved to
   * `.orphaned/`, never deleted.
   */
  static async open(options: DatabaseOptions): Promise<Database> {
    mkdirSync(options.dataPath, { recursive: true });
    const release = acquireLock(
      realFs,
      options.dataPath,
      (holder) => new DataPathLockedError(options.dataPath, holder),
    );
    const database = new Database(options, release);
    try {
      const schema = loadSchema(options.dataPath);
      for (const record of schema.classes) {
        const shards = await Promise.all(
          record.shards.map((shard) => database.#openShard(record.definition.class, shard.name, shard.node)),
        );
        database.#classes.set(record.definition.class.toLowerCase(), { record, shards, active: 0 });
      }
      database.#moveOrphans(options.warn);
      return database;
    } catch (error) {
      await database.close();
      throw error;
    }
  }

  /** Every class, in the order they were created. */
  classes(): ClassDefinition[] {
    return [...this.#classes.values()].map((live) => live.record.definition);
  }

  /** The class named `name` (first letter case-insensitive, as Weaviate), if it exists. */
  getClass(name: string): ClassDefinition | undefined {
    return this.#find(name)?.record.definition;
  }

  /** A class's shards and their owners. */
  shardsOf(name: string): readonly Shard[] {
    return this.#require(name).shards;
  }

  /**
   * Creates a class from its Weaviate JSON and returns it with defaults filled in.
   * @throws ClassExistsError, or a class error of errors.ts (ClassNameMissingError, ...) from normalizeClass
   */
  createClass(input: unknown): Promise<ClassDefinition> {
    return this.#changeSchema(async () => {
      const definition = normalizeClass(input);
      if (this.#classes.has(definition.class.toLowerCase())) throw new ClassExistsError(definition.class);
      const names = Array.from({ length: definition.shardingConfig.desiredCount }, shardName);
      const shards: Shard[] = [];
      try {
        for (const name of names) shards.push(await this.#openShard(definition.class, name, this.nodeName));
        const record: ClassRecord = { definition, shards: names.map((name) => ({ name, node: this.nodeName })) };
        saveSchema(this.dataPath, this.#schemaWith(record));
        this.#classes.set(definition.class.toLowerCase(), { record, shards, active: 0 });
      } catch (error) {
        await Promise.allSettled(shards.map((shard) => shard.store.close()));
        rmSync(this.#classDir(definition.class), { recursive: true, force: true });
        throw error;
      }
      return definition;
    });
  }

  /**
   * Deletes a class and all its objects; resolves false when there was no such class. The class
   * disappears from the schema first, so a crash part-way leaves at worst a directory to clean up.
   */
  deleteClass(name: string): Promise<boolean> {
    return this.#changeSchema(async () => {
      const live = this.#find(name);
      if (live === undefined) return false;
      const key = live.record.definition.class.toLowerCase();
      this.#classes.delete(key);
      saveSchema(this.dataPath, this.#schemaWith());
      if (live.active > 0) await new Promise<void>((resolve) => (live.drained = resolve));
      await Promise.allSettled(live.shards.map((shard) => shard.store.close()));
      rmSync(this.#classDir(live.record.definition.class), { recursive: true, force: true });
      return true;
    });
  }

  /**
   * Creates an object (POST /v1/objects).
   * @throws ClassNotFoundError, ObjectExistsError, or an object error of errors.ts (UnknownPropertyError, ...)
   */
  createObject(input: ObjectInput): Promise<StoredObject> {
    return this.#use(this.#classOf(input), async (live) => {
      const object = this.#prepare(live, input, undefined);
      const shard = this.#shardFor(live, object.id);
      if ((await shard.objects.get(uuidBytes(object.id))) !== undefined) throw new ObjectExistsError(object.id);
      await shard.objects.put(uuidBytes(object.id), encodeLimited(object));
      return object;
    });
  }

  /**
   * Replaces an object (PUT) or merges into it (PATCH: properties shallow-merged, vector replaced if
   * given). The creation time is kept.
   * @throws ClassNotFoundError, ObjectNotFoundError, or an object error of errors.ts (ObjectIdMismatchError, ...)
   */
  updateObject(className: string, id: string, input: ObjectInput, mode: 'replace' | 'merge'): Promise<StoredObject> {
    return this.#use(className, async (live) => {
      if (input.class !== undefined && capitalizeClassName(String(input.class)) !== live.record.definition.class) {
        throw new ObjectClassMismatchError(String(input.class), className);
      }
      if (input.id !== undefined && String(input.id).toLowerCase() !== id.toLowerCase()) {
        throw new ObjectIdMismatchError(String(input.id), id);
      }
      const existing = await this.#read(live, id);
      if (existing === undefined) throw new ObjectNotFoundError(live.record.definition.class, id);
      const merged: ObjectInput =
        mode === 'merge'
          ? {
              properties: { ...existing.properties, ...(isRecord(input.properties) ? input.properties : {}) },
              vector: input.vector ?? existing.vector,
              vectors: input.vectors ?? existing.vectors,
              tenant: input.tenant,
            }
          : input;
      const object = this.#prepare(live, { ...merged, id: existing.id }, existing.creationTimeUnix);
      await this.#shardFor(live, object.id).objects.put(uuidBytes(object.id), encodeLimited(object));
      return object;
    });
  }

  /** The object, or undefined when it (or its class) does not exist. */
  async getObject(className: string, id: string): Promise<StoredObject | undefined> {
    if (this.#find(className) === undefined || !isUuid(id)) return undefined;
    return this.#use(className, (live) => this.#read(live, id));
  }

  /** Deletes an object; resolves false when it (or its class) did not exist. */
  async deleteObject(className: string, id: string): Promise<boolean> {
    if (this.#find(className) === undefined || !isUuid(id)) return false;
    return this.#use(className, async (live) => {
      const shard = this.#shardFor(live, id);
      if ((await shard.objects.get(uuidBytes(id))) === undefined) return false;
      await shard.objects.delete(uuidBytes(id));
      return true;
    });
  }

  /**
   * Objects in id order: of one class (optionally after an id, exclusive), or of every class, class
   * by class. `offset + limit` may not exceed {@link QUERY_MAXIMUM_RESULTS}.
   */
  async listObjects(query: {
    className?: string;
    after?: string;
    offset?: number;
    limit: number;
  }): Promise<StoredObject[]> {
    const offset = query.offset ?? 0;
    if (offset + query.limit > QUERY_MAXIMUM_RESULTS) throw new QueryLimitError(QUERY_MAXIMUM_RESULTS);
    const names = query.className === undefined ? this.classes().map((c) => c.class) : [query.className];
    const page: Page = { skip: offset, objects: [], bytes: 0, slice: new TimeSlice() };
    for (const name of names) {
      if (query.className !== undefined && this.#find(name) === undefined)
        throw new ClassNotFoundError(capitalizeClassName(name));
      if (page.objects.length >= query.limit) break;
      await this.#use(name, (live) => this.#scanClass(live, query.after, query.limit, page));
    }
    return page.objects;
  }

  /**
   * Writes a batch (POST /v1/batch/objects): each object is validated on its own and reported on its
   * own. The valid ones are written in store batches of at most 500 objects or 1 MiB per shard, each atomic (a
   * large batch is not one transaction, nor is it in Weaviate). Existing ids are overwritten, as in
   * Weaviate. Linear in the batch's size; it lets the event loop turn every few milliseconds, so the
   * node answers other requests while a large batch runs.
   */
  async batchObjects(inputs: readonly ObjectInput[]): Promise<BatchResult[]> {
    const slice = new TimeSlice();
    const results: BatchResult[] = new Array(inputs.length);
    const byClass = new Map<string, number[]>();
    for (let i = 0; i < inputs.length; i++) {
      const input = inputs[i] as ObjectInput;
      const name = typeof input.class === 'string' ? capitalizeClassName(input.class) : '';
      if (this.#find(name) === undefined) results[i] = { input, error: new ClassNotFoundError(name) };
      else {
        const indexes = byClass.get(name);
        if (indexes === undefined) byClass.set(name, [i]);
        else indexes.push(i);
      }
      if (slice.due) await slice.next();
    }
    for (const [name, indexes] of byClass) {
      // The class may have been deleted while this batch yielded: its objects fail, not the batch.
      if (this.#find(name) === undefined) {
        for (const i of indexes) results[i] = { input: inputs[i] as ObjectInput, error: new ClassNotFoundError(name) };
        continue;
      }
      await this.#use(name, async (live) => {
        const pending = new Map<Shard, { operations: BatchOperation[]; bytes: number }>();
        const writes: Promise<void>[] = [];
        const write = (shard: Shard, operations: BatchOperation[]) => {
          const written = shard.store.batch(operations);
          // Awaited below with the others; handled now, so an early failure is no unhandled rejection.
          written.catch(() => {});
          writes.push(written);
        };
        for (const i of indexes) {
          const input = inputs[i] as ObjectInput;
          try {
            const object = this.#prepare(live, input, undefined);
            const shard = this.#shardFor(live, object.id);
            const existing = await this.#read(live, object.id);
            const stored = existing === undefined ? object : { ...object, creationTimeUnix: existing.creationTimeUnix };
            let group = pending.get(shard);
            if (group === undefined) {
              group = { operations: [], bytes: 0 };
              pending.set(shard, group);
            }
            const value = encodeLimited(stored);
            group.operations.push({ type: 'put', bucket: OBJECTS_BUCKET, key: uuidBytes(object.id), value });
            group.bytes += value.length;
            if (group.operations.length >= STORE_BATCH_OBJECTS || group.bytes >= STORE_BATCH_BYTES) {
              write(shard, group.operations);
              pending.delete(shard);
            }
            results[i] = { object: stored };
          } catch (error) {
            results[i] = { input, error: error as Error };
          }
          if (slice.due) await slice.next();
        }
        for (const [shard, group] of pending) write(shard, group.operations);
        await Promise.all(writes);
      });
    }
    return results;
  }

  /**
   * Captures classes for a backup without stopping writes: per shard, flushes the store, pauses its
   * compaction for as long as it takes to hard-link the listed immutable files into `stagingDir`
   * (copies where the filesystem cannot link), then resumes it. Each shard's files are a consistent
   * state holding every write acknowledged before its flush. Deleting a class waits for its snapshot
   * to finish; the staged links survive the deletion.
   */
  async snapshotClasses(names: readonly string[], stagingDir: string): Promise<ClassSnapshot[]> {
    const snapshots: ClassSnapshot[] = [];
    for (const name of names) {
      snapshots.push(
        await this.#use(name, async (live) => {
          const className = live.record.definition.class;
          const shards = [];
          for (const shard of live.shards) {
            await shard.store.flush();
            await shard.store.pauseCompaction();
            try {
              const files = (await shard.store.listFiles()).map((file) => {
                // Checked here, not only on restore: a backup no restore would accept is no backup.
                if (!isStoreFilePath(file.path)) {
                  throw new TypeError(
                    `the store of shard ${shard.name} lists the file ${JSON.stringify(file.path)}: a backup can ` +
                      `only carry ${STORE_FILE_PATH_RULE}`,
                  );
                }
                const path = `${className.toLowerCase()}/${shard.name}/${file.path}`;
                const source = join(stagingDir, ...path.split('/'));
                mkdirSync(dirname(source), { recursive: true });
                linkOrCopy(join(shard.store.directory, file.path), source);
                return { path, source, size: file.size };
              });
              mkdirSync(join(stagingDir, className.toLowerCase(), shard.name), { recursive: true });
              shards.push({ name: shard.name, node: shard.node, files });
            } finally {
              shard.store.resumeCompaction();
            }
          }
          return { definition: live.record.definition, shards };
        }),
      );
    }
    return snapshots;
  }

  /**
   * Attaches restored classes, all or none: moves each staged shard directory into place, opens its
   * store, then records every class in schema.json in one write (the commit point: a crash before it
   * leaves the schema as it was). If anything fails, the stores are closed, the directories moved back
   * and the schema left as it was. Names come from a backup, so the rollback deletes nothing
   * recursively: it removes only the (then empty) class directories this call created.
   * @throws ClassExistsError when a class exists already.
   */
  attachClasses(classes: readonly StagedClass[]): Promise<void> {
    return this.#changeSchema(async () => {
      for (const { definition, shards } of classes) {
        if (this.#classes.has(definition.class.toLowerCase())) throw new ClassExistsError(definition.class);
        const bad = shards.find((shard) => !SHARD_NAME.test(shard.name));
        if (bad !== undefined) throw new TypeError(`attachClasses: invalid shard name ${JSON.stringify(bad.name)}`);
      }
      const created: string[] = [];
      const moved: Array<{ from: string; to: string }> = [];
      const opened: LiveClass[] = [];
      try {
        for (const { definition, shards } of classes) {
          const live: LiveClass = {
            record: { definition, shards: shards.map(({ name, node }) => ({ name, node })) },
            shards: [],
            active: 0,
          };
          opened.push(live);
          const classDir = this.#classDir(definition.class);
          if (!existsSync(classDir)) {
            mkdirSync(classDir);
            created.push(classDir);
          }
          for (const shard of shards) {
            const target = join(classDir, shard.name);
            renameSync(shard.directory, target);
            moved.push({ from: shard.directory, to: target });
            live.shards.push(await this.#openShard(definition.class, shard.name, shard.node));
          }
        }
        // The restored files were synced; make their new names durable before the schema names them.
        for (const { to } of moved) syncDirectory(realFs, to);
        for (const { definition } of classes) syncDirectory(realFs, this.#classDir(definition.class));
        syncDirectory(realFs, this.dataPath);
        const records = opened.map((live) => live.record);
        saveSchema(this.dataPath, { version: 1, classes: [...this.#schemaWith().classes, ...records] });
      } catch (error) {
        await Promise.allSettled(opened.flatMap((live) => live.shards.map((shard) => shard.store.close())));
        for (const { from, to } of moved.reverse()) renameSync(to, from);
        for (const dir of created.reverse()) rmdirSync(dir);
        throw error;
      }
      for (const live of opened) this.#classes.set(live.record.definition.class.toLowerCase(), live);
    });
  }

  /** Closes every shard store (flushing them) and releases the data path. */
  async close(): Promise<void> {
    await this.#schemaChange.catch(() => {});
    await Promise.allSettled(
      [...this.#classes.values()].flatMap((live) => live.shards.map((shard) => shard.store.close())),
    );
    this.#classes.clear();
    this.#release();
  }

  #find(name: string): LiveClass | undefined {
    return this.#classes.get(capitalizeClassName(name).toLowerCase());
  }

  #require(name: string): LiveClass {
    const live = this.#find(name);
    if (live === undefined) throw new ClassNotFoundError(capitalizeClassName(name));
    return live;
  }

  #classOf(input: ObjectInput): string {
    if (typeof input.class !== 'string' || input.class === '') throw new ObjectClassMissingError();
    return input.class;
  }

  /** Runs `action` with class `name` held open, so deleting the class waits for it. */
  async #use<T>(name: string, action: (live: LiveClass) => Promise<T>): Promise<T> {
    const live = this.#require(name);
    live.active++;
    try {
      return await action(live);
    } finally {
      if (--live.active === 0) live.drained?.();
    }
  }

  /** Validates an object for class `live` and stamps it: a new id if none, timestamps. */
  #prepare(live: LiveClass, input: ObjectInput, created: number | undefined): StoredObject {
    const definition = live.record.definition;
    if (input.tenant !== undefined && input.tenant !== null && input.tenant !== '') {
      throw new TenantUnsupportedError(definition.class);
    }
    if (input.id !== undefined && !isUuid(input.id)) throw new InvalidObjectIdError(input.id);
    const properties = validateProperties(definition, input.properties);
    const vector = validateVector(input.vector, 'vector');
    let vectors: Record<string, number[]> | undefined;
    if (input.vectors !== undefined && input.vectors !== null) {
      if (!isRecord(input.vectors)) throw new NamedVectorsNotObjectError();
      const count = Object.keys(input.vectors).length;
      if (count > OBJECT_LIMITS.namedVectors) throw new TooManyNamedVectorsError(count, OBJECT_LIMITS.namedVectors);
      vectors = Object.fromEntries(
        Object.entries(input.vectors).map(([name, v]) => [name, validateVector(v, `vectors.${name}`) ?? []]),
      );
    }
    const now = Date.now();
    return {
      class: definition.class,
      id: input.id === undefined ? newUuid() : (input.id as string).toLowerCase(),
      properties,
      ...(vector === undefined ? {} : { vector }),
      ...(vectors === undefined ? {} : { vectors }),
      creationTimeUnix: created ?? now,
      lastUpdateTimeUnix: now,
    };
  }

  #shardFor(live: LiveClass, id: string): Shard {
    return live.shards[shardIndex(uuidBytes(id), live.shards.length)] as Shard;
  }

  async #read(live: LiveClass, id: string): Promise<StoredObject | undefined> {
    const bytes = await this.#shardFor(live, id).objects.get(uuidBytes(id));
    return bytes === undefined ? undefined : decodeObject(bytes);
  }

  /** The first `count` objects of a class in id order (after `after`), merged across its shards. */
  /**
   * Adds the objects of a class in id order (after `after`) to `page`, until it holds `limit`: a merge
   * of its shards' cursors, so only the page's objects are read and decoded (the first `page.skip` are
   * passed over undecoded), letting the event loop turn as it goes.
   * @throws QueryPageTooLargeError once the page's objects pass MAX_PAGE_BYTES.
   */
  async #scanClass(live: LiveClass, after: string | undefined, limit: number, page: Page): Promise<void> {
    const start = after === undefined ? undefined : uuidBytes(after);
    const cursors = live.shards.map((shard) => shard.objects.cursor());
    try {
      const heads = await Promise.all(
        cursors.map(async (cursor) => {
          const first = await cursor.seek(start);
          return start !== undefined && first !== undefined && first.key.equals(start) ? cursor.next() : first;
        }),
      );
      while (page.objects.length < limit) {
        let next = -1;
        for (const [i, head] of heads.entries()) {
          const best = next === -1 ? undefined : heads[next];
          if (head !== undefined && (best === undefined || Buffer.compare(head.key, best.key) < 0)) next = i;
        }
        if (next === -1) return;
        const { value } = heads[next] as Entry;
        if (page.skip > 0) page.skip--;
        else {
          page.bytes += value.length;
          if (page.bytes > MAX_PAGE_BYTES) throw new QueryPageTooLargeError(MAX_PAGE_BYTES);
          page.objects.push(decodeObject(value));
        }
        heads[next] = await (cursors[next] as Cursor).next();
        if (page.slice.due) await page.slice.next();
      }
    } finally {
      for (const cursor of cursors) cursor.close();
    }
  }

  #classDir(className: string): string {
    return join(this.dataPath, className.toLowerCase());
  }

  async #openShard(className: string, name: string, node: string): Promise<Shard> {
    return new Shard(name, node, await this.#factory.open(join(this.#classDir(className), name)));
  }

  #schemaWith(added?: ClassRecord): SchemaState {
    const classes = [...this.#classes.values()].map((live) => live.record);
    return { version: 1, classes: added === undefined ? classes : [...classes, added] };
  }

  #changeSchema<T>(change: () => Promise<T>): Promise<T> {
    const result = this.#schemaChange.then(change, change);
    this.#schemaChange = result.catch(() => {});
    return result;
  }

  #moveOrphans(warn: DatabaseOptions['warn']): void {
    const known = new Set([...this.#classes.keys()]);
    for (const entry of readdirSync(this.dataPath, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name.startsWith('.') || known.has(entry.name)) continue;
      const target = join(this.dataPath, ORPHANS, `${entry.name}-${Date.now()}`);
      mkdirSync(join(this.dataPath, ORPHANS), { recursive: true });
      renameSync(join(this.dataPath, entry.name), target);
      warn?.(
        { directory: entry.name, movedTo: target },
        'a directory in the data path belongs to no class; moved it aside',
      );
    }
  }
}
