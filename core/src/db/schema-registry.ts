/**
 * The classes a node serves, live: each with its open shards, recorded in schema.json with all its
 * shards (a cluster node opens only its own). Schema changes run one at a time; requests hold a class
 * open while they use it, and deleting a class waits for them.
 */
import { ClassExistsError, ClassNotFoundError } from '../errors.js';
import { type ClassDefinition, capitalizeClassName, classNameKey, normalizeClass } from './class-definition.js';
import { validateClassRecord } from './class-record.js';
import type { DataPath } from './data-path.js';
import { newShardName } from './names.js';
import { type ClassRecord, loadSchema, replaceSchema, type ShardRecord, syncSchema } from './schema-file.js';
import type { Shard } from './shard.js';
import { ShardHolds } from './shard-holds.js';

/**
 * A class as it is served: its record in schema.json (every shard, wherever it is) and the shards
 * open on this node, in the record's order.
 */
export interface LiveClass {
  readonly record: ClassRecord;
  readonly shards: readonly Shard[];
}

/** A live class and the requests using it right now. */
interface Entry {
  readonly live: LiveClass;
  active: number;
  drained?: () => void;
}

const keyOf = classNameKey;

/** The schema of one data path: its classes, in the order they were created. */
export class SchemaRegistry {
  readonly #path: DataPath;
  readonly #nodeName: string;
  readonly #ownShardsOnly: boolean;
  /** By class name in lower case: class names are unique ignoring case. */
  readonly #classes = new Map<string, Entry>();
  /** Serialises schema changes, so schema.json is written by one change at a time. */
  #changing: Promise<unknown> = Promise.resolve();
  /**
   * Classes restored for a cluster and held until the cluster's schema adds them (shard-hold.ts):
   * adding a class of a held name settles its hold first. Changed only within {@link change}.
   */
  readonly holds: ShardHolds;

  /**
   * `nodeName` owns the shards of the classes this registry creates. With `ownShardsOnly`, only the
   * shards recorded on `nodeName` are opened; without, every shard is, whatever node it records.
   */
  constructor(path: DataPath, nodeName: string, ownShardsOnly = false) {
    this.#path = path;
    this.#nodeName = nodeName;
    this.#ownShardsOnly = ownShardsOnly;
    this.holds = new ShardHolds(path);
  }

  /** Loads schema.json and opens the shards this node serves of every class in it. */
  async load(): Promise<void> {
    for (const record of loadSchema(this.#path.fs, this.#path.root).classes) {
      const className = record.definition.class;
      const shards = await Promise.all(
        record.shards
          .filter((shard) => this.#serves(shard))
          .map((shard) => this.#path.openShard(className, shard.name, shard.node)),
      );
      this.#classes.set(keyOf(className), { live: { record, shards }, active: 0 });
    }
  }

  /** Every class, in the order they were created. */
  definitions(): ClassDefinition[] {
    return this.records().map((record) => record.definition);
  }

  /** Every class with all its shards, in the order they were created. */
  records(): ClassRecord[] {
    return [...this.#classes.values()].map((entry) => entry.live.record);
  }

  /** The class named `name` (first letter case-insensitive, as Weaviate), if it exists. */
  find(name: string): LiveClass | undefined {
    return this.#classes.get(keyOf(name))?.live;
  }

  /**
   * The class named `name`.
   * @throws ClassNotFoundError when there is none.
   */
  require(name: string): LiveClass {
    return this.#require(name).live;
  }

  /**
   * Runs `action` with class `name` held open, so deleting the class waits for it.
   * @throws ClassNotFoundError when there is no such class.
   */
  async use<T>(name: string, action: (live: LiveClass) => Promise<T>): Promise<T> {
    const entry = this.#require(name);
    entry.active++;
    try {
      return await action(entry.live);
    } finally {
      if (--entry.active === 0) entry.drained?.();
    }
  }

  /** Runs `change` once every schema change before it has finished. */
  change<T>(change: () => Promise<T>): Promise<T> {
    const result = this.#changing.then(change, change);
    this.#changing = result.catch(() => {});
    return result;
  }

  /**
   * Creates a class from its Weaviate JSON and returns it with defaults filled in.
   * @throws ClassExistsError, or a class error of errors.ts (ClassNameMissingError, ...) from normalizeClass
   */
  createClass(input: unknown): Promise<ClassDefinition> {
    return this.change(async () => {
      const definition = normalizeClass(input);
      if (this.find(definition.class) !== undefined) throw new ClassExistsError(definition.class);
      const names = Array.from({ length: definition.shardingConfig.desiredCount }, newShardName);
      await this.#addClass({ definition, shards: names.map((name) => ({ name, node: this.#nodeName })) });
      return definition;
    });
  }

  /**
   * Adds a class whose definition and placement were decided elsewhere (the cluster's schema),
   * opening the shards this node serves; resolves false, changing nothing, when a class of that name
   * exists. The record is checked first (class-record.ts), so nothing of a bad one reaches the disk.
   * @throws ClassRecordInvalidError naming the field that is wrong, or what the filesystem or a store throws.
   */
  applyClass(input: unknown): Promise<boolean> {
    return this.change(async () => {
      const record = validateClassRecord(input);
      if (this.find(record.definition.class) !== undefined) return false;
      await this.#addClass(record);
      return true;
    });
  }

  /**
   * Deletes a class and all its objects; resolves false when there was no such class. The class
   * disappears from the schema first, so a crash part-way leaves at worst a directory to clean up.
   */
  deleteClass(name: string): Promise<boolean> {
    return this.change(async () => {
      const entry = this.#classes.get(keyOf(name));
      if (entry === undefined) return false;
      this.#classes.delete(keyOf(name));
      replaceSchema(this.#path.fs, this.#path.root, { version: 1, classes: this.records() });
      this.sync();
      if (entry.active > 0) await new Promise<void>((resolve) => (entry.drained = resolve));
      await Promise.allSettled(entry.live.shards.map((shard) => shard.store.close()));
      this.#path.removeClass(entry.live.record.definition.class);
      return true;
    });
  }

  /**
   * Records `added` in schema.json, after the classes there, and serves them. The rename of
   * schema.json is the commit point: when this throws, nothing changed; once it returns, the classes
   * are in schema.json and served, whatever happens next. Call from within {@link change}, then
   * {@link sync}.
   */
  add(added: readonly LiveClass[]): void {
    replaceSchema(this.#path.fs, this.#path.root, {
      version: 1,
      classes: [...this.records(), ...added.map((live) => live.record)],
    });
    for (const live of added) this.#classes.set(keyOf(live.record.definition.class), { live, active: 0 });
  }

  /** Makes the last schema change survive a power loss; if this throws, the change still stands. */
  sync(): void {
    syncSchema(this.#path.fs, this.#path.root);
  }

  /**
   * Waits for the schema change in progress, releases every hold (shard-hold.ts: lost with the node's
   * memory anyway, and deleting beats leaving them to the next start's orphan scan), then closes every
   * shard store (flushing them).
   */
  async close(): Promise<void> {
    await this.#changing.catch(() => {});
    this.holds.releaseAll();
    await Promise.allSettled(
      [...this.#classes.values()].flatMap((entry) => entry.live.shards.map((shard) => shard.store.close())),
    );
    this.#classes.clear();
  }

  /** True when this node opens `shard`: every shard on a single node, only its own in a cluster. */
  #serves(shard: ShardRecord): boolean {
    return !this.#ownShardsOnly || shard.node === this.#nodeName;
  }

  /**
   * Opens the shards of `record` this node serves, then records and serves the class. Call from
   * within {@link change}, for a class that does not exist. A class held for a restore whose held
   * directories are exactly those shards' opens them (its restored data); one held with other shards
   * is released first (ShardHolds.settle). When opening or recording fails, the stores are closed and
   * the schema is as it was: the class's directory is removed, unless it holds a restore's data,
   * which stays held for another try.
   */
  async #addClass(record: ClassRecord): Promise<void> {
    const className = record.definition.class;
    const served = record.shards.filter((shard) => this.#serves(shard));
    const adopting = this.holds.settle(
      className,
      served.map((shard) => shard.name),
    );
    const shards: Shard[] = [];
    try {
      for (const shard of served) shards.push(await this.#path.openShard(className, shard.name, shard.node));
      this.add([{ record, shards }]);
    } catch (error) {
      await Promise.allSettled(shards.map((shard) => shard.store.close()));
      if (!adopting) this.#path.removeClass(className);
      throw error;
    }
    if (adopting) this.holds.adopted(className);
    this.sync();
  }

  #require(name: string): Entry {
    const entry = this.#classes.get(keyOf(name));
    if (entry === undefined) throw new ClassNotFoundError(capitalizeClassName(name));
    return entry;
  }
}
