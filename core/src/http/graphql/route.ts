/**
 * POST /v1/graphql: the subset of Weaviate's GraphQL API that its docs and clients check a restore
 * with, `Get` pages of a class and `Aggregate { <Class> { meta { count } } }`. A request Weaviate
 * refuses before resolving (no query, variables not an object, no class yet) gets its 422 and
 * message; anything the query itself gets wrong is a GraphQL error of a 200 answer, as in Weaviate.
 */
import type { FastifyPluginAsync } from 'fastify';
import { GraphqlNoSchemaError, GraphqlQueryEmptyError, GraphqlVariablesError } from '../../errors.js';
import type { HttpContext } from '../context.js';
import { sendResult } from './response.js';
import { runQuery } from './run-query.js';
import { SchemaCache } from './schema-cache.js';

/** Weaviate's GraphQLQuery. */
interface GraphqlBody {
  readonly query?: string;
  readonly operationName?: string | null;
  readonly variables?: unknown;
}

const graphqlBody = {
  type: 'object',
  properties: {
    query: { type: 'string', description: 'The GraphQL query: Get and Aggregate { meta { count } } of a class.' },
    operationName: { type: ['string', 'null'], description: 'The operation to run, when the query has several.' },
    variables: { description: 'The values of the query variables: a JSON object.' },
  },
} as const;

/** The JSON type of `value`, for a message. */
const jsonType = (value: unknown) => (Array.isArray(value) ? 'an array' : `a ${typeof value}`);

/** POST /v1/graphql, its schema rebuilt from the classes when they change (schema-cache.ts). */
export const graphqlRoutes: FastifyPluginAsync<HttpContext> = async (app, { db, nodes }) => {
  const schemas = new SchemaCache();
  app.post<{ Body: GraphqlBody }>(
    '/graphql',
    { schema: { tags: ['graphql'], summary: 'Get objects of a class, or count them (a subset)', body: graphqlBody } },
    async (request, reply) => {
      const { query, operationName, variables } = request.body;
      if (query === undefined || query === '') throw new GraphqlQueryEmptyError();
      if (variables != null && (typeof variables !== 'object' || Array.isArray(variables)))
        throw new GraphqlVariablesError(jsonType(variables));
      const built = schemas.get(db.classes());
      if (built === undefined) throw new GraphqlNoSchemaError();
      const result = await runQuery(
        built,
        {
          query,
          variables: (variables ?? undefined) as Record<string, unknown> | undefined,
          operationName: operationName ?? undefined,
        },
        { db, nodes, asked: 0, counts: new Map() },
      );
      return sendResult(reply, request, result);
    },
  );
};
