/**
 * The database a node serves, as one object: its data path, schema, objects, pages, and the
 * snapshot and attach a backup and a restore use. Each job lives in its own file; this one only
 * puts them together.
 */
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
import { SchemaRegistry } from './schema-registry.js';
import type { Shard } from './shard.js';
import { attachClasses, type StagedClass } from './shard-attach.js';
import { type ClassSnapshot, snapshotClasses } from './shard-snapshot.js';
import { countShards, type ShardStats } from './shard-stats.js';
import type { StoredObject } from './stored-object.js';

/** What the node is configured with. */
export interface DatabaseOptions {
  /** PERSISTENCE_DATA_PATH: where schema.json and the class directories live. */
  readonly dataPath: string;
  /** CLUSTER_HOSTNAME: the node that owns the shards this node creates. */
  readonly nodeName: string;
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
    this.#schema = new SchemaRegistry(path, options.nodeName);
  }

  /**
   * Opens the data path: claims it (one node per data path), loads the schema and opens every shard.
   * Directories no class accounts for (left by a crash during a class deletion) are moved to
   * `.orphaned/`, never deleted.
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

  /**
   * A class's shards and their owners.
   * @throws ClassNotFoundError
   */
  shardsOf(name: string): readonly Shard[] {
    return this.#schema.require(name).shards;
  }

  /**
   * Every shard of every class (or of class `className`) with its object count (shard-stats.ts).
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
   * Creates a class from its Weaviate JSON and returns it with defaults filled in.
   * @throws ClassExistsError, or a class error of errors.ts (ClassNameMissingError, ...) from normalizeClass
   */
  createClass(input: unknown): Promise<ClassDefinition> {
    return this.#schema.createClass(input);
  }

  /**
   * Deletes a class and all its objects; resolves false when there was no such class. The class
   * disappears from the schema first, so a crash part-way leaves at worst a directory to clean up.
   */
  deleteClass(name: string): Promise<boolean> {
    return this.#schema.deleteClass(name);
  }

  /**
   * Creates an object (POST /v1/objects).
   * @throws ClassNotFoundError, ObjectExistsError, or an object error of errors.ts (UnknownPropertyError, ...)
   */
  createObject(input: ObjectInput): Promise<StoredObject> {
    return createObject(this.#schema, input);
  }

  /**
   * Replaces an object (PUT) or merges into it (PATCH: properties shallow-merged, vector replaced if
   * given). The creation time is kept.
   * @throws ClassNotFoundError, ObjectNotFoundError, or an object error of errors.ts (ObjectIdMismatchError, ...)
   */
  updateObject(className: string, id: string, input: ObjectInput, mode: 'replace' | 'merge'): Promise<StoredObject> {
    return updateObject(this.#schema, className, id, input, mode);
  }

  /** The object, or undefined when it (or its class) does not exist. */
  getObject(className: string, id: string): Promise<StoredObject | undefined> {
    return getObject(this.#schema, className, id);
  }

  /** Deletes an object; resolves false when it (or its class) did not exist. */
  deleteObject(className: string, id: string): Promise<boolean> {
    return deleteObject(this.#schema, className, id);
  }

  /**
   * Objects in id order: of one class (optionally after an id, exclusive), or of every class, class
   * by class. `offset + limit` may not exceed QUERY_MAXIMUM_RESULTS.
   * @throws QueryLimitError, ClassNotFoundError, QueryPageTooLargeError
   */
  listObjects(query: PageQuery): Promise<StoredObject[]> {
    return listObjects(this.#schema, query);
  }

  /**
   * Writes a batch (POST /v1/batch/objects): each object is validated, written and reported on its
   * own, in store batches per shard, letting the event loop turn as it goes.
   */
  batchObjects(inputs: readonly ObjectInput[]): Promise<BatchResult[]> {
    return batchObjects(this.#schema, inputs);
  }

  /**
   * Captures classes for a backup without stopping writes: per shard, the files of its flushed state
   * hard-linked into `stagingDir`, laid out as the data path is. Deleting a class waits for its
   * snapshot to finish; the staged links survive the deletion.
   * @throws ClassNotFoundError, or what the filesystem throws.
   */
  snapshotClasses(names: readonly string[], stagingDir: string): Promise<ClassSnapshot[]> {
    return snapshotClasses(this.#schema, this.#path.fs, names, stagingDir);
  }

  /**
   * Attaches restored classes, all or none, with schema.json's rename as the commit point: a failure
   * before it moves the staged directories back and leaves the schema as it was; after it, the classes
   * stay attached even though the call rejects.
   * @throws ClassExistsError when a class exists already, or what the filesystem or a store throws.
   */
  attachClasses(classes: readonly StagedClass[]): Promise<void> {
    return attachClasses(this.#schema, this.#path, classes);
  }

  /** Closes every shard store (flushing them) and releases the data path. */
  async close(): Promise<void> {
    await this.#schema.close();
    this.#path.release();
  }
}
