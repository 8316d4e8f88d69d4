/**
 * The data of a whole cluster behind one node's REST API: schema changes go to etcd, and each object
 * request goes to the node that owns the object's shard (this one, or another over the internal API).
 * Batches are split by owner and answered in the request's order; pages merge every node's part.
 */

import { setTimeout as sleep } from 'node:timers/promises';
import {
  type BatchResult,
  type ClassDefinition,
  type ClassRecord,
  capitalizeClassName,
  type DataApi,
  type Database,
  isUuid,
  newUuid,
  type ObjectInput,
  type PageQuery,
  QUERY_MAXIMUM_RESULTS,
  type StoredObject,
} from '../db/index.js';
import { ClassNotFoundError, NodeUnavailableError, QueryLimitError, reviveError } from '../errors.js';
import { TimeSlice } from '../time-slice.js';
import type { ClusterSchema } from './cluster-schema.js';
import type { NodeCalls } from './node-calls.js';

/**
 * How long a schema change waits for the other nodes to apply it: the stated visibility bound (the
 * schema store's re-list period); a watch delivers it within milliseconds.
 */
export const SPREAD_TIMEOUT_MS = 2_000;
const SPREAD_POLL_MS = 5;

/** Where one object goes: its owner, its shard, and the input with the id it will have. */
interface Routed {
  readonly node: string;
  readonly shard: string;
  readonly input: ObjectInput;
}

export class ClusterData implements DataApi {
  readonly #db: Database;
  readonly #schema: ClusterSchema;
  readonly #calls: NodeCalls;

  constructor(db: Database, schema: ClusterSchema, calls: NodeCalls) {
    this.#db = db;
    this.#schema = schema;
    this.#calls = calls;
  }

  classes(): ClassDefinition[] {
    return this.#db.classes();
  }

  getClass(name: string): ClassDefinition | undefined {
    return this.#db.getClass(name);
  }

  /**
   * Creates the class in etcd and answers once every live node has applied it (or
   * {@link SPREAD_TIMEOUT_MS} passed), so objects sent right after are routed to nodes that know it.
   */
  async createClass(input: unknown): Promise<ClassDefinition> {
    const definition = await this.#schema.createClass(input);
    await this.#spread([definition.class], true);
    return definition;
  }

  /**
   * Creates classes placed elsewhere (a restore's) in etcd, all or none (ClusterSchema.createClasses),
   * and answers once every live node has applied every one of them (or {@link SPREAD_TIMEOUT_MS} passed).
   */
  async createClasses(records: readonly ClassRecord[]): Promise<void> {
    await this.#schema.createClasses(records);
    await this.#spread(
      records.map((record) => capitalizeClassName(record.definition.class)),
      true,
    );
  }

  /** Deletes the class in etcd and answers once every live node has dropped it (or the timeout passed). */
  async deleteClass(name: string): Promise<boolean> {
    const deleted = await this.#schema.deleteClass(name);
    await this.#spread([capitalizeClassName(name)], false);
    return deleted;
  }

  createObject(input: ObjectInput): Promise<StoredObject> {
    const routed = this.#route(input);
    if (routed === undefined) return this.#db.createObject(input);
    return this.#calls.call(routed.node, 'createObject', { input: routed.input }, this.#target(routed, input));
  }

  updateObject(className: string, id: string, input: ObjectInput, mode: 'replace' | 'merge'): Promise<StoredObject> {
    const owner = this.#owner(className, id);
    if (owner === undefined) return this.#db.updateObject(className, id, input, mode);
    return this.#calls.call(
      owner.node,
      'updateObject',
      { className, id, input, mode },
      { shard: owner.name, className },
    );
  }

  async getObject(className: string, id: string): Promise<StoredObject | undefined> {
    const owner = this.#owner(className, id);
    if (owner === undefined) return undefined;
    const object = await this.#calls.call(owner.node, 'getObject', { className, id }, { shard: owner.name, className });
    return object ?? undefined;
  }

  deleteObject(className: string, id: string): Promise<boolean> {
    const owner = this.#owner(className, id);
    if (owner === undefined) return Promise.resolve(false);
    return this.#calls.call(owner.node, 'deleteObject', { className, id }, { shard: owner.name, className });
  }

  /**
   * Each object goes to its owner; objects without an id get one here, so the owner is known before
   * they are written. Objects this node cannot route (unknown class, invalid id) are answered by the
   * local database, which reports them as a single node would.
   */
  async batchObjects(inputs: readonly ObjectInput[]): Promise<BatchResult[]> {
    const slice = new TimeSlice();
    const groups = new Map<string, number[]>();
    const routed: Array<Routed | undefined> = new Array(inputs.length);
    for (let i = 0; i < inputs.length; i++) {
      const route = this.#route(inputs[i] as ObjectInput);
      routed[i] = route;
      const node = route?.node ?? this.#calls.self;
      const group = groups.get(node);
      if (group === undefined) groups.set(node, [i]);
      else group.push(i);
      if (slice.due) await slice.next();
    }
    const results: BatchResult[] = new Array(inputs.length);
    await Promise.all(
      [...groups].map(async ([node, indexes]) => {
        const sent = indexes.map((i) => routed[i]?.input ?? (inputs[i] as ObjectInput));
        try {
          const answers = await this.#calls.call(node, 'batchObjects', { inputs: sent });
          for (const [k, i] of indexes.entries()) {
            const answer = answers[k];
            results[i] =
              answer !== undefined && 'object' in answer
                ? { object: answer.object }
                : { input: inputs[i] as ObjectInput, error: reviveError(answer?.error ?? { message: 'no result' }) };
          }
        } catch (error) {
          for (const i of indexes) {
            const route = routed[i];
            const failure = route === undefined ? error : this.#unreachable(error, route, inputs[i] as ObjectInput);
            results[i] = { input: inputs[i] as ObjectInput, error: failure as Error };
          }
        }
      }),
    );
    return results;
  }

  /**
   * A page in id order across the nodes: each node owning shards of a class gives its first
   * `offset + limit` objects after `after`, and the merge of those holds the class's first ones.
   * Classes follow one another in schema order, as on one node.
   */
  async listObjects(query: PageQuery): Promise<StoredObject[]> {
    let skip = query.offset ?? 0;
    if (skip + query.limit > QUERY_MAXIMUM_RESULTS) throw new QueryLimitError(QUERY_MAXIMUM_RESULTS);
    if (query.className !== undefined && this.#db.getClass(query.className) === undefined) {
      throw new ClassNotFoundError(capitalizeClassName(query.className));
    }
    const names = query.className === undefined ? this.#db.classes().map((c) => c.class) : [query.className];
    const page: StoredObject[] = [];
    for (const name of names) {
      const wanted = skip + query.limit - page.length;
      if (page.length >= query.limit) break;
      const placement = this.#db.getClass(name) === undefined ? [] : this.#db.placement(name);
      const nodes = [...new Set(placement.map((shard) => shard.node))];
      const parts = await Promise.all(
        nodes.map((node) =>
          this.#calls.call(
            node,
            'listObjects',
            { className: name, limit: wanted, ...(query.after === undefined ? {} : { after: query.after }) },
            {
              className: name,
              shard: placement
                .filter((s) => s.node === node)
                .map((s) => s.name)
                .join(', '),
            },
          ),
        ),
      );
      const merged = mergeById(parts).slice(0, wanted);
      if (merged.length <= skip) {
        skip -= merged.length;
        continue;
      }
      page.push(...merged.slice(skip));
      skip = 0;
    }
    return page.slice(0, query.limit);
  }

  /**
   * Waits until each live peer has (or no longer has) every class of `names`, for at most
   * {@link SPREAD_TIMEOUT_MS} in all; a peer that does not answer is not waited for any longer.
   */
  async #spread(names: readonly string[], present: boolean): Promise<void> {
    const deadline = Date.now() + SPREAD_TIMEOUT_MS;
    await Promise.all(
      this.#calls.peers().map(async (peer) => {
        for (const name of names) if (!(await this.#seen(peer, name, present, deadline))) return;
      }),
    );
  }

  /** True once `peer` has (or no longer has) class `name`; false when it did not answer or `deadline` passed. */
  async #seen(peer: string, name: string, present: boolean, deadline: number): Promise<boolean> {
    while (Date.now() < deadline) {
      try {
        await this.#calls.call(peer, 'shardStats', { className: name });
        if (present) return true;
      } catch (error) {
        if (!ClassNotFoundError.is(error)) return false;
        if (!present) return true;
      }
      await sleep(SPREAD_POLL_MS);
    }
    return false;
  }

  /** Where an object of `input` goes, with the id it will have; undefined when the local database should answer. */
  #route(input: ObjectInput): Routed | undefined {
    if (typeof input.class !== 'string' || this.#db.getClass(input.class) === undefined) return undefined;
    if (input.id !== undefined && !isUuid(input.id)) return undefined;
    const withId = input.id === undefined ? { ...input, id: newUuid() } : input;
    const owner = this.#db.ownerOf(input.class, withId.id as string);
    return { node: owner.node, shard: owner.name, input: withId };
  }

  #owner(className: string, id: string) {
    if (this.#db.getClass(className) === undefined || !isUuid(id)) return undefined;
    return this.#db.ownerOf(className, id);
  }

  #target(routed: Routed, input: ObjectInput) {
    return { shard: routed.shard, className: capitalizeClassName(String(input.class)) };
  }

  /** A batch group's failure as each object of it sees it: its own shard named. */
  #unreachable(error: unknown, route: Routed, input: ObjectInput): unknown {
    if (!(error instanceof NodeUnavailableError)) return error;
    return new NodeUnavailableError(route.node, error.reason, route.shard, capitalizeClassName(String(input.class)));
  }
}

/** Pages of objects, each in id order, merged into one in id order: linear, one pass over each. */
function mergeById(parts: readonly (readonly StoredObject[])[]): StoredObject[] {
  const merged: StoredObject[] = [];
  const next = parts.map(() => 0);
  for (;;) {
    let best: { part: number; object: StoredObject } | undefined;
    for (const [i, part] of parts.entries()) {
      const head = part[next[i] as number];
      if (head !== undefined && (best === undefined || head.id < best.object.id)) best = { part: i, object: head };
    }
    if (best === undefined) return merged;
    merged.push(best.object);
    next[best.part] = (next[best.part] as number) + 1;
  }
}
