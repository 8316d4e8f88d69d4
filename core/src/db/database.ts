/**
 * The database a node serves, as one object: its data path, schema, objects, pages, and the
 * snapshot and attach a backup and a restore use. Each job lives in its own file; this one only
 * puts them together.
 */
import { InvalidObjectIdError } from '../errors.js';
import type { StoreFactory } from '../store/index.js';
import type { ClassDefinition } from './class-definition.js';
import { type DataFs, realDataFs } from './data-fs.js';
import { DataPath } from './data-path.js';
import { listObjects, type PageQuery } from './object-pages.js';
import {
  type BatchResult,
  batchObjects,
  createObject,
  deleteObject,
  getObject,
  type ObjectInput,
  updateObject,
} from './objects.js';
import type { ClassRecord, ShardRecord } from './schema-file.js';
import { SchemaRegistry } from './schema-registry.js';
import type { Shard } from './shard.js';
import { attachClasses, type StagedClass } from './shard-attach.js';
import { holdRestored, releaseHeld } from './shard-hold.js';
import { shardRecordFor } from './shard-routing.js';
import { type ClassSnapshot, snapshotClasses } from './shard-snapshot.js';
import { countShards, type ShardStats } from './shard-stats.js';
import type { StoredObject } from './stored-object.js';
import { isUuid } from './uuid.js';

/** What the node is configured with. */
export interface DatabaseOptions {
  /** PERSISTENCE_DATA_PATH: where schema.json and the class directories live. */
  readonly dataPath: string;
  /** CLUSTER_HOSTNAME: the node that owns the shards this node creates. */
  readonly nodeName: string;
  /**
   * True on a node of a cluster: of each class, only the shards recorded on `nodeName` are opened
   * (the others stay in the class's record, for routing). False (the default, a single node): every
   * shard is opened, whatever node it records, as after restoring another node's backup.
   */
  readonly ownShardsOnly?: boolean;
  readonly storeFactory: StoreFactory;
  /** Where unexpected leftovers are reported. */
  readonly warn?: (fields: object, message: string) => void;
  /** The filesystem for the database's own files (the stores have the factory's); the real one by default. */
  readonly fs?: DataFs;
}

/**
 * The node's classes and objects. Each class has one or more shards; each shard is a store of its
 * own under `<data path>/<class in lower case>/<shard>`, and objects are spread over shards by a hash
 * of their id. The schema is persisted in `schema.json` and survives restarts.
 *
 * In a cluster (`ownShardsOnly`), a class's record lists all its shards and their nodes, but only
 * this node's are opened: objects are routed over the record's shards, and an object operation whose
 * shard is elsewhere fails with ShardNotLocalError. Listing, counting and snapshots cover the open
 * shards, so each node contributes its own.
 *
 * Concurrency: every method may be called at any time. Deleting a class first makes it invisible to
 * new requests, then waits for the requests already using it before closing and removing its files.
 */
export class Database {
  readonly dataPath: string;
  readonly nodeName: string;
  readonly #path: DataPath;
  readonly #schema: SchemaRegistry;

  private constructor(options: DatabaseOptions, path: DataPath) {
    this.dataPath = options.dataPath;
    this.nodeName = options.nodeName;
    this.#path = path;
    this.#schema = new SchemaRegistry(path, options.nodeName, options.ownShardsOnly === true);
  }

  /**
   * Opens the data path: claims it (one node per data path), loads the schema and opens every shard
   * (with `ownShardsOnly`, this node's). Directories no class accounts for (left by a crash during a
   * class deletion) are moved to `.orphaned/`, never deleted; a class with no directory (all its
   * shards elsewhere) is fine.
   * @throws DataPathLockedError when another node has the data path; SchemaFileError when schema.json is damaged.
   */
  static async open(options: DatabaseOptions): Promise<Database> {
    const path = DataPath.claim(options.fs ?? realDataFs, options.dataPath, options.storeFactory);
    const database = new Database(options, path);
    try {
      await database.#schema.load();
      path.moveOrphans(
        database.classes().map((definition) => definition.class),
        options.warn,
      );
      return database;
    } catch (error) {
      await database.close();
      throw error;
    }
  }

  /** Every class, in the order they were created. */
  classes(): ClassDefinition[] {
    return this.#schema.definitions();
  }

  /** The class named `name` (first letter case-insensitive, as Weaviate), if it exists. */
  getClass(name: string): ClassDefinition | undefined {
    return this.#schema.find(name)?.record.definition;
  }

  /** Every class with all its shards and their nodes (its placement), in the order they were created. */
  classRecords(): ClassRecord[] {
    return this.#schema.records();
  }

  /**
   * A class's open shards and their owners: all of them on a single node, this node's in a cluster.
   * @throws ClassNotFoundError
   */
  shardsOf(name: string): readonly Shard[] {
    return this.#schema.require(name).shards;
  }

  /**
   * A class's placement: every shard it has and the node it is on, in the order objects are routed by.
   * @throws ClassNotFoundError
   */
  placement(className: string): readonly ShardRecord[] {
    return this.#schema.require(className).record.shards;
  }

  /**
   * The shard object `id` of class `className` belongs to, with the node that owns it: where a router
   * sends the object. The same on every node that has the class's record.
   * @throws ClassNotFoundError, or InvalidObjectIdError when `id` is not a UUID
   */
  ownerOf(className: string, id: string): ShardRecord {
    const { record } = this.#schema.require(className);
    if (!isUuid(id)) throw new InvalidObjectIdError(id);
    return shardRecordFor(record, id);
  }

  /**
   * Every open shard of every class (or of class `className`) with its object count (shard-stats.ts):
   * in a cluster, this node's shards only.
   * @throws ClassNotFoundError when `className` names no class
   */
  async shardStats(className?: string): Promise<ShardStats[]> {
    if (className !== undefined) return this.#schema.use(className, (live) => countShards([live]));
    const stats: ShardStats[] = [];
    for (const { class: name } of this.classes()) {
      if (this.#schema.find(name) === undefined) continue; // deleted while the ones before were counted
      stats.push(...(await this.#schema.use(name, (live) => countShards([live]))));
    }
    return stats;
  }

  /**
   * Creates a class from its Weaviate JSON and returns it with defaults filled in, every shard on this
   * node: the single-node path. A cluster decides a class's placement itself and adds it to each node
   * with {@link applyClass}; with `ownShardsOnly` this still works, all shards then being this node's.
   * @throws ClassExistsError, or a class error of errors.ts (ClassNameMissingError, ...) from normalizeClass
   */
  createClass(input: unknown): Promise<ClassDefinition> {
    return this.#schema.createClass(input);
  }

  /**
   * Adds a class whose definition and placement were decided elsewhere (the cluster's schema in etcd),
   * as one schema change, opening the shards this node serves (with `ownShardsOnly`, those recorded on
   * `nodeName`; else all). Resolves false, changing nothing, when a class of that name exists. The
   * record is checked as hostile input first: its definition by normalizeClass, its shard count against
   * `shardingConfig.desiredCount` (1 to 64), its shard names (names.ts SHARD_NAME, unique ignoring case)
   * and node names (NODE_NAME); a bad record creates nothing. A class held by {@link holdRestored} opens
   * its held directories when the record's shards on this node are exactly the held ones; otherwise
   * the hold is released (its directories deleted) before any shard is opened. If opening fails, a
   * held class stays held.
   * @throws ClassRecordInvalidError naming the field that is wrong, or what the filesystem or a store throws.
   */
  applyClass(record: ClassRecord): Promise<boolean> {
    return this.#schema.applyClass(record);
  }

  /**
   * Deletes a class and all its objects; resolves false when there was no such class. The class
   * disappears from the schema first, so a crash part-way leaves at worst a directory to clean up.
   * Only what is on this node is closed and removed: in a cluster, the other nodes delete their shards.
   */
  deleteClass(name: string): Promise<boolean> {
    return this.#schema.deleteClass(name);
  }

  /**
   * Creates an object (POST /v1/objects). In a cluster, give the id: one made here may map to a
   * shard of another node.
   * @throws ClassNotFoundError, ObjectExistsError, an object error of errors.ts (UnknownPropertyError, ...),
   * or ShardNotLocalError when the object's shard is on another node
   */
  createObject(input: ObjectInput): Promise<StoredObject> {
    return createObject(this.#schema, input);
  }

  /**
   * Replaces an object (PUT) or merges into it (PATCH: properties shallow-merged, vector replaced if
   * given). The creation time is kept.
   * @throws ClassNotFoundError, ObjectNotFoundError, an object error of errors.ts (ObjectIdMismatchError, ...),
   * or ShardNotLocalError when the object's shard is on another node
   */
  updateObject(className: string, id: string, input: ObjectInput, mode: 'replace' | 'merge'): Promise<StoredObject> {
    return updateObject(this.#schema, className, id, input, mode);
  }

  /**
   * The object, or undefined when it (or its class) does not exist.
   * @throws ShardNotLocalError when its shard is on another node
   */
  getObject(className: string, id: string): Promise<StoredObject | undefined> {
    return getObject(this.#schema, className, id);
  }

  /**
   * Deletes an object; resolves false when it (or its class) did not exist.
   * @throws ShardNotLocalError when its shard is on another node
   */
  deleteObject(className: string, id: string): Promise<boolean> {
    return deleteObject(this.#schema, className, id);
  }

  /**
   * Objects in id order: of one class (optionally after an id, exclusive), or of every class, class
   * by class. `offset + limit` may not exceed QUERY_MAXIMUM_RESULTS. Reads the open shards: in a
   * cluster, this node's objects only.
   * @throws QueryLimitError, ClassNotFoundError, QueryPageTooLargeError
   */
  listObjects(query: PageQuery): Promise<StoredObject[]> {
    return listObjects(this.#schema, query);
  }

  /**
   * Writes a batch (POST /v1/batch/objects): each object is validated, written and reported on its
   * own, in store batches per shard, letting the event loop turn as it goes. An object whose shard is
   * on another node gets ShardNotLocalError; the others are written.
   */
  batchObjects(inputs: readonly ObjectInput[]): Promise<BatchResult[]> {
    return batchObjects(this.#schema, inputs);
  }

  /**
   * Captures classes for a backup without stopping writes: per shard, the files of its flushed state
   * hard-linked into `stagingDir`, laid out as the data path is. Only the open shards are captured:
   * in a cluster, each node snapshots its own. Deleting a class waits for its snapshot to finish; the
   * staged links survive the deletion.
   * @throws ClassNotFoundError, or what the filesystem throws.
   */
  snapshotClasses(names: readonly string[], stagingDir: string): Promise<ClassSnapshot[]> {
    return snapshotClasses(this.#schema, this.#path.fs, names, stagingDir);
  }

  /**
   * Attaches restored classes, all or none, with schema.json's rename as the commit point: a failure
   * before it moves the staged directories back and leaves the schema as it was; after it, the classes
   * stay attached even though the call rejects.
   * @throws ClassExistsError when a class exists already (or is held, {@link holdRestored}), or what the
   *   filesystem or a store throws.
   */
  attachClasses(classes: readonly StagedClass[]): Promise<void> {
    return attachClasses(this.#schema, this.#path, classes);
  }

  /**
   * Holds restored classes for a restore into a cluster, all or none, as one schema change: moves each
   * staged shard directory to where that shard of the class lives (`<data path>/<class>/<shard>`) and
   * makes the new names durable, but adds no class and writes no schema.json. The cluster's schema
   * adds the classes later: {@link applyClass} of a held class whose shards on this node are exactly
   * the held ones opens the held directories, with the restored data. A restore that fails before that
   * calls {@link releaseHeld}. A failure part-way moves back what was moved and removes the class
   * directories it made.
   *
   * Holds live in memory only. {@link close} releases them; after a crash, the held directories belong
   * to no class of schema.json, and the next {@link open} moves them to `.orphaned/` as it does every
   * directory no class accounts for: the restore they were for has failed with the node.
   * @throws ClassExistsError when a class exists or is held already; ShardDirectoryExistsError when a
   *   shard's directory exists already (a leftover); TypeError for an invalid shard name, one repeated
   *   ignoring case, or a class given twice; or what the filesystem throws.
   */
  holdRestored(classes: readonly StagedClass[]): Promise<void> {
    return holdRestored(this.#schema, this.#path, classes);
  }

  /**
   * Releases the holds of classes `classNames` (any case), as one schema change: of each that is held
   * and not in the schema, deletes exactly the shard directories {@link holdRestored} moved into place,
   * and the class directory if the hold made it and it is empty now. Names not held are ignored, so
   * releasing twice resolves.
   * @throws what the filesystem throws; releasing again finishes what is left.
   */
  releaseHeld(classNames: readonly string[]): Promise<void> {
    return releaseHeld(this.#schema, classNames);
  }

  /**
   * Releases every hold ({@link releaseHeld}: a closed node's holds are lost, and deleting their
   * directories beats leaving them to be moved aside), closes every shard store (flushing them) and
   * releases the data path.
   */
  async close(): Promise<void> {
    await this.#schema.close();
    await this.#path.purged(); // what a class deletion left to remove, before another process may claim the path
    this.#path.release();
  }
}
