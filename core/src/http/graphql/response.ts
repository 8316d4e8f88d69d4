/**
 * A GraphQL result answered as Weaviate answers it (its GraphQLResponse model): `data` when there is
 * any, `errors` each with `locations`, `message` and `path` (null when none, as its model marshals
 * them), status 200 whatever the errors. Serialised a list item at a time, letting the event loop
 * turn, as the REST list is: a Get's objects may be tens of megabytes of JSON.
 */
import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type ExecutionResult, GraphQLError } from 'graphql';
import { StrataError } from '../../errors.js';
import { TimeSlice } from '../../time-slice.js';

/** Serialised text is sent in chunks of about this many characters. */
const CHUNK_CHARS = 64 * 1024;

/** Levels serialised piece by piece: the body, `data`, Get and Aggregate, and each class's list. */
const SLICED_LEVELS = 4;

/** One error as Weaviate's GraphQLError model has it. */
interface WeaviateGraphqlError {
  readonly locations: ReadonlyArray<{ readonly column: number; readonly line: number }> | null;
  readonly message: string;
  readonly path: ReadonlyArray<string | number> | null;
}

/**
 * `error` in Weaviate's shape. An error a resolver did not raise on purpose (neither Strata's nor
 * graphql-js's) is logged and answered with the request's id: its message may hold internals.
 */
export function weaviateError(error: GraphQLError, request: FastifyRequest): WeaviateGraphqlError {
  const original = error.originalError;
  const unexpected =
    original !== undefined && !(original instanceof GraphQLError) && !(original instanceof StrataError);
  if (unexpected) request.log.error({ err: original }, 'unexpected error while resolving a GraphQL query');
  return {
    locations: error.locations?.map(({ column, line }) => ({ column, line })) ?? null,
    message: unexpected
      ? `internal error while resolving the query; the node's log has the details (request ${request.id})`
      : error.message,
    path: error.path ?? null,
  };
}

/** Answers `result` with status 200. */
export async function sendResult(
  reply: FastifyReply,
  request: FastifyRequest,
  result: ExecutionResult,
): Promise<FastifyReply> {
  const body = {
    ...(result.data == null ? {} : { data: result.data }),
    ...(result.errors === undefined ? {} : { errors: result.errors.map((error) => weaviateError(error, request)) }),
  };
  const slice = new TimeSlice();
  const chunks: Buffer[] = [];
  let text = '';
  const write = async (value: unknown, level: number): Promise<void> => {
    if (level < SLICED_LEVELS && typeof value === 'object' && value !== null) {
      const list = Array.isArray(value);
      text += list ? '[' : '{';
      let first = true;
      for (const [key, item] of Object.entries(value)) {
        if (item === undefined) continue;
        text += `${first ? '' : ','}${list ? '' : `${JSON.stringify(key)}:`}`;
        first = false;
        await write(item, level + 1);
      }
      text += list ? ']' : '}';
      return;
    }
    text += JSON.stringify(value) ?? 'null';
    if (text.length >= CHUNK_CHARS) {
      chunks.push(Buffer.from(text));
      text = '';
    }
    if (slice.due) await slice.next();
  };
  await write(body, 0);
  chunks.push(Buffer.from(text));
  const length = chunks.reduce((total, chunk) => total + chunk.length, 0);
  return reply
    .status(200)
    .type('application/json; charset=utf-8')
    .header('content-length', length)
    .send(Readable.from(chunks));
}
