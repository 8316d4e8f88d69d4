/**
 * Get and Aggregate of one class, over the data API: a Get is a page of `GET /v1/objects?class=`, an
 * Aggregate's `meta { count }` the sum of the class's shard counts of `GET /v1/nodes`. Both work the
 * same on one node and on a cluster.
 */
import { isUuid, QUERY_MAXIMUM_RESULTS, type StoredObject } from '../../db/index.js';
import {
  GraphqlArgumentError,
  GraphqlCountIncompleteError,
  GraphqlQueryResultsError,
  QueryLimitError,
} from '../../errors.js';
import type { QueryContext } from './query-context.js';
import { slicedList } from './sliced-list.js';

/** Weaviate's QUERY_DEFAULTS_LIMIT_GRAPHQL: the limit of a Get given neither limit nor offset. */
const GRAPHQL_DEFAULT_LIMIT = 100;

/** Weaviate's QUERY_DEFAULTS_LIMIT: the limit of a Get given an offset but no limit (or a negative one). */
const DEFAULT_LIMIT = 10;

/** The arguments of a Get of one class, as GraphQL passes them (null when given as null). */
export interface GetArguments {
  readonly limit?: number | null;
  readonly offset?: number | null;
  readonly after?: string | null;
}

/**
 * A Get of class `className`: its objects in id order, `offset` passed over (or those after `after`),
 * `limit` of them. `offset + limit` may not pass QUERY_MAXIMUM_RESULTS, as in the REST list, nor may
 * the sum over the request's Get fields, so one request reads at most that many objects.
 * @throws GraphqlArgumentError, QueryLimitError, GraphqlQueryResultsError, or what listObjects throws.
 */
export async function resolveGet(
  className: string,
  args: GetArguments,
  context: QueryContext,
): Promise<ReadonlyArray<StoredObject | Promise<StoredObject>>> {
  const offset = args.offset ?? 0;
  if (offset < 0) throw new GraphqlArgumentError('offset', offset, 'expected 0 or more');
  const limit =
    args.limit != null && args.limit >= 0
      ? args.limit
      : args.limit == null && args.offset == null
        ? GRAPHQL_DEFAULT_LIMIT
        : DEFAULT_LIMIT;
  const after = args.after ?? undefined;
  if (after !== undefined && !isUuid(after)) {
    throw new GraphqlArgumentError('after', after, 'expected the id of an object, as _additional { id } answers');
  }
  if (after !== undefined && offset > 0) {
    throw new GraphqlArgumentError(
      'offset',
      offset,
      "'offset' cannot be combined with 'after': page with after and limit",
    );
  }
  if (offset + limit > QUERY_MAXIMUM_RESULTS) throw new QueryLimitError(QUERY_MAXIMUM_RESULTS);
  // Before the first await: sibling fields are resolved one after another up to there.
  context.asked += offset + limit;
  if (context.asked > QUERY_MAXIMUM_RESULTS) throw new GraphqlQueryResultsError(context.asked, QUERY_MAXIMUM_RESULTS);
  const objects = await context.db.listObjects({
    className,
    offset,
    limit,
    ...(after === undefined ? {} : { after }),
  });
  return slicedList(objects);
}

/** The groups of an Aggregate of class `className`: one, whose `meta { count }` is counted when asked for. */
export function resolveAggregate(
  className: string,
  context: QueryContext,
): Array<{ meta: { count: () => Promise<number> } }> {
  return [{ meta: { count: () => countObjects(className, context) } }];
}

/**
 * How many objects class `className` holds: the sum of its shards' counts over the nodes.
 * @throws GraphqlCountIncompleteError when a node holding shards of the class did not answer.
 */
function countObjects(className: string, context: QueryContext): Promise<number> {
  let count = context.counts.get(className);
  if (count === undefined) {
    count = (async () => {
      const shards = new Map<string, number>();
      for (const node of await context.nodes(className)) {
        for (const shard of node.shards) if (shard.class === className) shards.set(shard.name, shard.objectCount);
      }
      const expected = context.db.getClass(className)?.shardingConfig.desiredCount ?? shards.size;
      if (shards.size < expected) throw new GraphqlCountIncompleteError(className, shards.size, expected);
      let sum = 0;
      for (const objects of shards.values()) sum += objects;
      return sum;
    })();
    context.counts.set(className, count);
  }
  return count;
}
