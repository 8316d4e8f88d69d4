import type { FastifyPluginAsync } from 'fastify';
import type { NodeStatus } from '../../db/index.js';
import { NodesClassNotFoundError } from '../../errors.js';
import { CORE_VERSION } from '../../version.js';
import { type HttpContext, WEAVIATE_API_VERSION } from '../context.js';
import { classPath } from '../schemas/classes.js';

/**
 * GET /v1/nodes and GET /v1/nodes/{className}: the node, its shards and their object counts, in
 * Weaviate's NodesStatusResponse shape. `output=minimal` (the default, as in Weaviate) answers the
 * stats; `verbose` adds every shard.
 */

const nodesQuery = {
  type: 'object',
  properties: { output: { type: 'string', enum: ['minimal', 'verbose'], default: 'minimal' } },
} as const;

type Query = { output: 'minimal' | 'verbose' };

export const nodeRoutes: FastifyPluginAsync<HttpContext> = async (app, { db, nodes }) => {
  const status = (statuses: readonly NodeStatus[], output: Query['output']) => ({
    nodes: statuses.map(({ name, status, shards }) => ({
      name,
      status,
      version: WEAVIATE_API_VERSION,
      gitHash: `strata-${CORE_VERSION}`,
      stats: {
        shardCount: shards.length,
        objectCount: shards.reduce((sum, shard) => sum + shard.objectCount, 0),
      },
      batchStats: { queueLength: 0, ratePerSecond: 0 },
      ...(output === 'verbose'
        ? {
            shards: shards.map((shard) => ({
              name: shard.name,
              class: shard.class,
              objectCount: shard.objectCount,
              vectorIndexingStatus: 'READY',
              vectorQueueLength: 0,
              compressed: false,
              loaded: true,
            })),
          }
        : {}),
    })),
  });

  app.get<{ Querystring: Query }>(
    '/nodes',
    { schema: { tags: ['nodes'], summary: 'The nodes, their shards and object counts', querystring: nodesQuery } },
    async (request) => status(await nodes(), request.query.output),
  );

  app.get<{ Params: { className: string }; Querystring: Query }>(
    '/nodes/:className',
    {
      schema: {
        tags: ['nodes'],
        summary: "A class's shards on the nodes, with object counts",
        params: classPath,
        querystring: nodesQuery,
      },
    },
    async (request) => {
      const { className } = request.params;
      if (db.getClass(className) === undefined) throw new NodesClassNotFoundError(className);
      return status(await nodes(className), request.query.output);
    },
  );
};
