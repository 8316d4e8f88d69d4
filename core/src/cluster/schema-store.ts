/**
 * The cluster's schema in etcd: one key per class under `strata/classes/`, each holding the class
 * record (definition and shard placement) as JSON. Every change is one transaction whose compare
 * decides it (create only if absent, delete only if present), never a read followed by a write, so
 * two nodes racing for one class name cannot both win; only a create of more classes than etcd takes
 * in one transaction is a few in turn (createMany). Nodes follow changes with
 * {@link SchemaStore.subscribe}.
 */
import type { ComparatorBuilder, Etcd3, IKeyValue, IRequestOp, ITxnResponse } from 'etcd3';
import type { ClassRecord } from '../db/index.js';
import { ClassExistsError, ClusterUnavailableError } from '../errors.js';
import { isUnavailable, reasonOf, unreachable } from './etcd-client.js';
import { CLASSES_PREFIX, classKey, nameOf } from './etcd-keys.js';
import { byCreateRevision, PrefixMirror, readRecord } from './prefix-mirror.js';

/**
 * etcd's default `--max-txn-ops`: a transaction holds at most this many compares, and at most this many
 * operations in each branch. {@link SchemaStore.createMany} creates at most this many classes at once.
 */
export const MAX_TXN_OPS = 128;

/**
 * The bytes of class records {@link SchemaStore.createMany} puts in one transaction: under etcd's default
 * `--max-request-bytes` (1.5 MiB), with room for the keys and the framing. A class of many properties
 * takes tens of kilobytes, so 128 of them could exceed it.
 */
export const MAX_TXN_BYTES = 1024 * 1024;

/** Options of {@link SchemaStore}. */
export interface SchemaStoreOptions {
  /**
   * Problems the store works around, for the node's log: a value that is no class record (skipped),
   * a failed listing while subscribed, a listener's error. Unless told, `process.emitWarning`.
   */
  readonly onError?: (error: unknown) => void;
  /** How often subscribers' list is read again, to repair missed watch events; 2000 ms unless told. */
  readonly relistMs?: number;
}

/** The classes as etcd holds them, and the keys whose values are no class record. */
export interface SchemaSnapshot {
  readonly records: readonly ClassRecord[];
  /** Lower-cased class names of keys skipped as damaged: those classes exist, unreadable. */
  readonly skipped: readonly string[];
}

/** A class record's first problem, or undefined; the key must be its class name lower-cased. */
function recordProblem(name: string | undefined) {
  return (value: { readonly [field: string]: unknown }): string | undefined => {
    const definition = value.definition as { readonly class?: unknown } | null | undefined;
    if (typeof definition !== 'object' || definition === null) return 'definition is not an object';
    if (typeof definition.class !== 'string') return 'definition.class is not a string';
    if (definition.class.toLowerCase() !== name) return `its class is not its key's ${JSON.stringify(name)}`;
    if (!Array.isArray(value.shards)) return 'shards is not an array';
    return undefined;
  };
}

/** A read of `key` for a transaction's branch: whether it exists, at which revision, without its value. */
function exists(key: string): IRequestOp {
  return { request_range: { key: Buffer.from(key), keys_only: true } };
}

/** A class record as {@link SchemaStore.createMany} puts it: its class's name, key and JSON. */
interface Put {
  readonly name: string;
  readonly key: string;
  readonly value: string;
}

/**
 * `puts` in transactions of at most {@link MAX_TXN_OPS} records and {@link MAX_TXN_BYTES} of them, in
 * order; a record larger than that goes alone (and etcd refuses it if it is too large even so).
 */
function batches(puts: readonly Put[]): Put[][] {
  const all: Put[][] = [];
  let batch: Put[] = [];
  let bytes = 0;
  for (const put of puts) {
    const size = Buffer.byteLength(put.value);
    if (batch.length === MAX_TXN_OPS || (batch.length > 0 && bytes + size > MAX_TXN_BYTES)) {
      all.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(put);
    bytes += size;
  }
  if (batch.length > 0) all.push(batch);
  return all;
}

/** `error` as a {@link ClusterUnavailableError} when etcd did not answer; unchanged otherwise. */
function unavailable(error: unknown): unknown {
  return isUnavailable(error) ? new ClusterUnavailableError(reasonOf(error)).withCause(error) : error;
}

/**
 * The classes under `strata/classes/`. Schema changes fail within a few seconds when etcd does not
 * answer ({@link ClusterUnavailableError}); subscribers keep their last list meanwhile and get the
 * current one once etcd is back. Safe to call concurrently, from any number of nodes.
 */
export class SchemaStore {
  readonly #client: Etcd3;
  readonly #report: (error: unknown) => void;
  readonly #relistMs: number;
  readonly #listeners = new Set<(snapshot: SchemaSnapshot) => void>();
  #mirror: PrefixMirror | undefined;
  #latest: SchemaSnapshot | undefined;

  constructor(client: Etcd3, options: SchemaStoreOptions = {}) {
    this.#client = client;
    this.#report = options.onError ?? ((error) => process.emitWarning(error instanceof Error ? error : String(error)));
    this.#relistMs = options.relistMs ?? 2000;
  }

  /**
   * Creates the class, in one transaction that puts its key only if no class of that name (ignoring
   * case) exists.
   *
   * @throws ClassExistsError when one does.
   * @throws ClusterUnavailableError when etcd does not answer. Usually nothing changed then; but a
   *   create whose answer alone was lost (a deadline, a connection cut after sending) may have gone
   *   through, and a retry then throws ClassExistsError: {@link list} tells.
   */
  async create(record: ClassRecord): Promise<void> {
    await this.createMany([record]);
  }

  /**
   * Creates the classes of `records`, all or none: in one transaction that compares every class's key
   * as absent and puts every record, so watchers see them appear together. Above {@link MAX_TXN_OPS}
   * classes (or {@link MAX_TXN_BYTES} of records) the create is split into transactions of at most that
   * many, one after another, and is then NOT atomic to watchers: they may see, even apply, the first
   * ones before a later transaction fails. A failed one deletes what the earlier ones created, each
   * with a transaction that compares their revision, so a record someone replaced meanwhile is kept.
   * Classes created in one transaction share its revision: {@link list} gives them in key order.
   *
   * @throws TypeError when two records name one class (ignoring case): a caller's mistake.
   * @throws ClassExistsError naming a class that exists (ignoring case); nothing is created.
   * @throws ClusterUnavailableError when etcd does not answer, as {@link create}: usually nothing was
   *   created, but a transaction whose answer alone was lost may have gone through, and if etcd stops
   *   answering while earlier transactions are being undone, some of their classes may remain: {@link list}
   *   tells.
   */
  async createMany(records: readonly ClassRecord[]): Promise<void> {
    const keys = new Set<string>();
    const puts: Put[] = records.map((record) => {
      const put = {
        name: record.definition.class,
        key: classKey(record.definition.class),
        value: JSON.stringify(record),
      };
      if (keys.has(put.key)) throw new TypeError(`createMany: class ${put.name} is given twice`);
      keys.add(put.key);
      return put;
    });
    const created: Array<{ keys: readonly string[]; revision: string }> = [];
    for (const batch of batches(puts)) {
      try {
        created.push(await this.#createAll(batch));
      } catch (error) {
        await this.#undo(created);
        throw error;
      }
    }
  }

  /**
   * Deletes the class of `className` (any case), in one transaction; false when there is none.
   *
   * @throws ClusterUnavailableError when etcd does not answer (as for {@link create}, a delete whose
   *   answer alone was lost may have gone through).
   */
  async delete(className: string): Promise<boolean> {
    const key = classKey(className);
    try {
      const deleted = this.#client.delete().key(key);
      const { succeeded } = await this.#client.if(key, 'Create', '>', 0).then(deleted).commit();
      return succeeded;
    } catch (error) {
      throw unavailable(error);
    }
  }

  /**
   * Every class, in creation order (as a single node lists them). Values that are no class record
   * are skipped and reported to `onError`, never thrown.
   *
   * @throws EtcdUnreachableError when etcd does not answer.
   */
  async list(): Promise<ClassRecord[]> {
    return [...(await this.snapshot()).records];
  }

  /**
   * As {@link list}, with the names (lower-cased) of the keys whose values were skipped: a class
   * whose record is damaged still exists, and a node must not delete its data for that.
   *
   * @throws EtcdUnreachableError when etcd does not answer.
   */
  async snapshot(): Promise<SchemaSnapshot> {
    try {
      const { kvs } = await this.#client.getAll().prefix(CLASSES_PREFIX).exec();
      return this.#records([...kvs].sort(byCreateRevision));
    } catch (error) {
      throw unreachable(this.#client, error);
    }
  }

  /**
   * Calls `listener` with every class (as {@link snapshot} gives them) once they are first read, and
   * again whenever they change: a prefix watch triggers a new read, and so does a timer every 2 s, so
   * a watch lost to compaction or to an etcd restart repairs itself. A burst of changes makes one
   * call; a read that finds what the last call had makes none. Errors of the listener are reported to
   * `onError`. Returns the function that unsubscribes; the last one stops the watch.
   */
  subscribe(listener: (snapshot: SchemaSnapshot) => void): () => void {
    this.#listeners.add(listener);
    if (this.#mirror === undefined) {
      this.#mirror = new PrefixMirror(this.#client, {
        prefix: CLASSES_PREFIX,
        relistMs: this.#relistMs,
        onError: (error) => this.#report(error),
        onChange: ({ kvs }) => this.#deliver(this.#records(kvs)),
      });
      void this.#mirror.start();
    } else if (this.#latest !== undefined) {
      // A later subscriber gets the list the others have, without waiting for a change.
      const latest = this.#latest;
      queueMicrotask(() => this.#listeners.has(listener) && this.#call(listener, latest));
    }
    return () => {
      if (!this.#listeners.delete(listener) || this.#listeners.size > 0) return;
      void this.#mirror?.stop();
      this.#mirror = undefined;
      this.#latest = undefined;
    };
  }

  /**
   * Creates `batch` in one transaction, answering its keys and the revision its records were put at.
   * @throws ClassExistsError naming a class that exists (read in the same transaction), ClusterUnavailableError
   */
  async #createAll(batch: readonly Put[]): Promise<{ keys: readonly string[]; revision: string }> {
    const keys = batch.map((put) => put.key);
    const puts = batch.map((put) => this.#client.put(put.key).value(put.value));
    let response: ITxnResponse;
    try {
      response = await this.#all(keys, 'Create', 0)
        .then(...puts)
        .else(...keys.map(exists))
        .commit();
    } catch (error) {
      throw unavailable(error);
    }
    if (!response.succeeded) {
      const taken = response.responses.findIndex((op) => (op.response_range?.kvs.length ?? 0) > 0);
      // The else branch read the keys at the revision the compares failed at: one of them is there.
      throw new ClassExistsError((batch[Math.max(0, taken)] as Put).name);
    }
    return { keys, revision: response.header.revision };
  }

  /**
   * Deletes what earlier transactions of a {@link createMany} created: per transaction, every key still
   * at the revision it was put at, in one transaction comparing that. A key someone replaced (or
   * deleted) meanwhile fails the compare; the else branch reads the keys, and the rest are deleted.
   * @throws ClusterUnavailableError when etcd does not answer: what is not deleted yet stays.
   */
  async #undo(created: ReadonlyArray<{ keys: readonly string[]; revision: string }>): Promise<void> {
    for (const { keys, revision } of [...created].reverse()) {
      let ours = keys;
      while (ours.length > 0) {
        let response: ITxnResponse;
        try {
          const deletes = ours.map((key) => this.#client.delete().key(key));
          response = await this.#all(ours, 'Mod', revision)
            .then(...deletes)
            .else(...ours.map(exists))
            .commit();
        } catch (error) {
          throw unavailable(error);
        }
        if (response.succeeded) break;
        // Strictly fewer each time: the key that failed the compare is at another revision now.
        ours = ours.filter((_, i) => response.responses[i]?.response_range?.kvs[0]?.mod_revision === revision);
      }
    }
  }

  /** A transaction comparing `target` of every key (at least one) with `value`. */
  #all(keys: readonly string[], target: 'Create' | 'Mod', value: string | number): ComparatorBuilder {
    const [first, ...rest] = keys as [string, ...string[]];
    return rest.reduce((txn, key) => txn.and(key, target, '==', value), this.#client.if(first, target, '==', value));
  }

  #records(kvs: readonly IKeyValue[]): SchemaSnapshot {
    const records: ClassRecord[] = [];
    const skipped: string[] = [];
    for (const kv of kvs) {
      const name = nameOf(CLASSES_PREFIX, kv.key);
      const record = readRecord<ClassRecord>(kv, recordProblem(name));
      if (record instanceof Error) {
        this.#report(record);
        if (name !== undefined) skipped.push(name);
      } else records.push(record);
    }
    return { records, skipped };
  }

  #deliver(snapshot: SchemaSnapshot): void {
    this.#latest = snapshot;
    for (const listener of [...this.#listeners]) this.#call(listener, snapshot);
  }

  #call(listener: (snapshot: SchemaSnapshot) => void, snapshot: SchemaSnapshot): void {
    try {
      listener(snapshot);
    } catch (error) {
      this.#report(error);
    }
  }
}
