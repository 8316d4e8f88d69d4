/**
 * The cluster's schema in etcd: one key per class under `strata/classes/`, each holding the class
 * record (definition and shard placement) as JSON. Every change is one transaction whose compare
 * decides it (create only if absent, delete only if present), never a read followed by a write, so
 * two nodes racing for one class name cannot both win. Nodes follow changes with
 * {@link SchemaStore.subscribe}.
 */
import type { Etcd3, IKeyValue } from 'etcd3';
import type { ClassRecord } from '../db/index.js';
import { ClassExistsError, ClusterUnavailableError } from '../errors.js';
import { isUnavailable, reasonOf, unreachable } from './etcd-client.js';
import { CLASSES_PREFIX, classKey, nameOf } from './etcd-keys.js';
import { byCreateRevision, PrefixMirror, readRecord } from './prefix-mirror.js';

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
    const key = classKey(record.definition.class);
    let succeeded: boolean;
    try {
      const put = this.#client.put(key).value(JSON.stringify(record));
      ({ succeeded } = await this.#client.if(key, 'Create', '==', 0).then(put).commit());
    } catch (error) {
      throw unavailable(error);
    }
    if (!succeeded) throw new ClassExistsError(record.definition.class);
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
