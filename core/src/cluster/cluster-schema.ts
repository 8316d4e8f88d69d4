/**
 * The cluster's schema on this node: classes and their placement live in etcd (schema-store.ts), and
 * this node's Database follows them. A schema change is one etcd transaction; every node, this one
 * included, applies it when it sees it (watch, or the store's periodic re-list), so the local schema
 * only ever changes from etcd's, in etcd's order.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { validateClassRecord } from '../db/class-record.js';
import {
  type ClassDefinition,
  type ClassRecord,
  capitalizeClassName,
  type Database,
  normalizeClass,
  type ShardRecord,
} from '../db/index.js';
import { ClassExistsError, ClusterUnavailableError, SchemaNotAppliedError } from '../errors.js';
import type { Membership } from './membership.js';
import { placeShards } from './placement.js';
import type { SchemaSnapshot, SchemaStore } from './schema-store.js';

/** How long a schema change waits to see itself applied here before it says so. */
export const APPLY_TIMEOUT_MS = 10_000;
/** How often it looks while it waits. */
const APPLY_POLL_MS = 10;

/** Reports of the sync, for the node's log. */
export interface SchemaLog {
  warn(fields: object, message: string): void;
}

export class ClusterSchema {
  readonly #db: Database;
  readonly #store: SchemaStore;
  readonly #membership: Membership;
  readonly #log: SchemaLog;
  readonly #applyTimeoutMs: number;
  /** Applies one snapshot at a time, in the order they came. */
  #applying: Promise<void> = Promise.resolve();
  #unsubscribe: (() => void) | undefined;

  /** `applyTimeoutMs`: how long a change waits to see itself applied here ({@link APPLY_TIMEOUT_MS}). */
  constructor(
    db: Database,
    store: SchemaStore,
    membership: Membership,
    log: SchemaLog,
    applyTimeoutMs = APPLY_TIMEOUT_MS,
  ) {
    this.#db = db;
    this.#store = store;
    this.#membership = membership;
    this.#log = log;
    this.#applyTimeoutMs = applyTimeoutMs;
  }

  /** Applies etcd's schema now, then follows it. */
  async start(): Promise<void> {
    await this.#apply(await this.#store.snapshot());
    this.#unsubscribe = this.#store.subscribe((snapshot) => {
      this.#applying = this.#applying.then(() => this.#apply(snapshot));
    });
  }

  /**
   * Creates a class in the cluster: validated here, its shards placed over the live nodes (one per
   * node unless `shardingConfig.desiredCount` says otherwise), recorded in one etcd transaction.
   * @throws ClassExistsError, a class error of normalizeClass, ClusterUnavailableError while etcd is unreachable
   */
  async createClass(input: unknown): Promise<ClassDefinition> {
    // This node is live whether or not the member list has caught up with its own key yet.
    const live = [...new Set([this.#membership.self.name, ...this.#membership.members().map((m) => m.name)])];
    const definition = normalizeClass(withDesiredCount(input, live.length));
    if (this.#db.getClass(definition.class) !== undefined) throw new ClassExistsError(definition.class);
    this.#requireEtcd();
    const record: ClassRecord = {
      definition,
      shards: placeShards(definition.class, definition.shardingConfig.desiredCount, live),
    };
    await this.#store.create(record);
    await this.#applied(definition.class, true);
    return this.#db.getClass(definition.class) as ClassDefinition;
  }

  /**
   * Creates classes whose definitions and placement were decided elsewhere (a restore's), all or none
   * (SchemaStore.createMany: one etcd transaction up to 128 classes), and answers once this node has
   * applied every one of them. Each record is checked as {@link Database.applyClass} will check it
   * (class-record.ts), so a record no node could apply never reaches etcd; the records are stored as
   * checked, definitions with their defaults filled in.
   * @throws ClassRecordInvalidError naming the record's field that is wrong; ClassExistsError when a class
   *   exists here or in etcd (nothing is created); TypeError when two records name one class;
   *   ClusterUnavailableError while etcd is unreachable; SchemaNotAppliedError when this node has not
   *   applied a class within the timeout (it is recorded in etcd all the same).
   */
  async createClasses(records: readonly ClassRecord[]): Promise<void> {
    const checked = records.map((record) => validateClassRecord(record));
    for (const { definition } of checked) {
      if (this.#db.getClass(definition.class) !== undefined) throw new ClassExistsError(definition.class);
    }
    this.#requireEtcd();
    await this.#store.createMany(checked);
    for (const { definition } of checked) await this.#applied(definition.class, true);
  }

  /**
   * Deletes a class in the cluster; false when etcd had no such class.
   * @throws ClusterUnavailableError while etcd is unreachable
   */
  async deleteClass(name: string): Promise<boolean> {
    this.#requireEtcd();
    const deleted = await this.#store.delete(capitalizeClassName(name));
    await this.#applied(name, false);
    return deleted;
  }

  /** Stops following etcd; waits for the snapshot being applied. */
  async stop(): Promise<void> {
    this.#unsubscribe?.();
    await this.#applying;
  }

  #requireEtcd(): void {
    if (!this.#membership.healthy) {
      throw new ClusterUnavailableError('the node has lost its connection to etcd and is trying to get it back');
    }
  }

  /**
   * Makes the local schema what etcd says: classes added with their placement, others deleted. A
   * class whose shards in etcd are not the local ones (deleted and created again while this node was
   * away) is replaced; one whose record in etcd is damaged is left as it is.
   */
  async #apply({ records, skipped }: SchemaSnapshot): Promise<void> {
    const wanted = new Map(records.map((record) => [record.definition.class.toLowerCase(), record]));
    const damaged = new Set(skipped);
    for (const { class: name } of this.#db.classes()) {
      if (damaged.has(name.toLowerCase())) continue;
      const record = wanted.get(name.toLowerCase());
      if (record === undefined || !samePlacement(this.#db.placement(name), record.shards)) {
        await this.#db.deleteClass(name);
      }
    }
    for (const record of records) {
      if (this.#db.getClass(record.definition.class) !== undefined) continue;
      try {
        await this.#db.applyClass(record);
      } catch (error) {
        this.#log.warn({ class: record.definition.class, err: error }, 'class in etcd not applied');
      }
    }
  }

  /** Waits until class `name` is (or is no longer) in the local schema. */
  async #applied(name: string, present: boolean): Promise<void> {
    const deadline = Date.now() + this.#applyTimeoutMs;
    while ((this.#db.getClass(name) !== undefined) !== present) {
      if (Date.now() > deadline) throw new SchemaNotAppliedError(capitalizeClassName(name), this.#applyTimeoutMs);
      await sleep(APPLY_POLL_MS);
    }
  }
}

/** The class input with one shard per live node when it names no shard count itself. */
function withDesiredCount(input: unknown, nodes: number): unknown {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return input;
  const sharding = (input as { shardingConfig?: unknown }).shardingConfig;
  const config = typeof sharding === 'object' && sharding !== null && !Array.isArray(sharding) ? sharding : {};
  if ((config as { desiredCount?: unknown }).desiredCount !== undefined) return input;
  return { ...input, shardingConfig: { ...config, desiredCount: Math.max(1, nodes) } };
}

/** True when two placements name the same shards on the same nodes, in the same order. */
function samePlacement(local: readonly ShardRecord[], remote: readonly ShardRecord[]): boolean {
  return (
    local.length === remote.length && local.every((s, i) => s.name === remote[i]?.name && s.node === remote[i]?.node)
  );
}
