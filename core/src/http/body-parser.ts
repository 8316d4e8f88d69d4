import type { Readable } from 'node:stream';
import { errorCodes, type FastifyRequest } from 'fastify';
import { OBJECT_LIMITS } from '../db/index.js';
import { type MAX_JSON_DEPTH, parseJson, type ValueLimits } from '../sliced-json.js';
import { TimeSlice } from '../time-slice.js';

/**
 * What a value of a body may hold. Below the top two levels (a batch's `objects` array) no array or
 * object may be larger than one object may be, and no string anywhere: each is checked and stored in
 * one go. No object of the API has more than about a thousand members, and no array more than a
 * batch's 100,000 objects (refused with the API's own 422): more would only make validation hold the
 * event loop.
 */
const BODY_LIMITS: ValueLimits = { depth: 2, bytes: OBJECT_LIMITS.bytes, members: 10_000, items: 1_000_000 };

/** Bodies without a content-length start in a buffer this large, doubled as they grow. */
const INITIAL_BYTES = 64 * 1024;

/**
 * Reads a body into one buffer, copying each chunk as it arrives: Fastify's own reading concatenates
 * the chunks and decodes all of them at the end, in one go (a tenth of a second for 64 MiB). Enforces
 * the body limit as Fastify does, with its error; Node's HTTP parser ends a body at its
 * content-length, and fails the stream when the client hangs up before.
 */
async function readBody(payload: Readable, contentLength: string | undefined, limit: number): Promise<Buffer> {
  const declared = contentLength === undefined ? Number.NaN : Number(contentLength);
  if (declared > limit) throw new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE();
  let body = Buffer.allocUnsafe(Number.isSafeInteger(declared) && declared >= 0 ? declared : INITIAL_BYTES);
  let length = 0;
  // Chunks a socket has buffered arrive without a turn of the event loop in between, megabytes of
  // them at once (and the first copy into a fresh buffer faults its pages in): yield between slices.
  const slice = new TimeSlice();
  try {
    for await (const chunk of payload as AsyncIterable<Buffer>) {
      if (slice.due) await slice.next();
      if (length + chunk.length > limit) throw new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE();
      if (length + chunk.length > body.length) {
        const grown = Buffer.allocUnsafe(Math.min(limit, Math.max(2 * body.length, length + chunk.length)));
        body.copy(grown, 0, 0, length);
        body = grown;
      }
      chunk.copy(body, length);
      length += chunk.length;
    }
  } catch (error) {
    // A client that hangs up mid-body is a client error, as Fastify answers it.
    throw Object.assign(error as Error, { statusCode: (error as { statusCode?: number }).statusCode ?? 400 });
  }
  return body.subarray(0, length);
}

/**
 * The parser of every request body, whatever its content type: JSON, as Weaviate reads it (`curl -d`
 * sends form encoding). Bodies over the route's limit are refused with Fastify's 413; bodies that set
 * `__proto__` or `constructor.prototype`, or nest deeper than {@link MAX_JSON_DEPTH}, with a 400. A
 * large body is read and parsed in pieces, so the node keeps answering other requests meanwhile.
 */
export function jsonBodyParser() {
  return async (request: FastifyRequest, payload: Readable): Promise<unknown> => {
    // The route's limit: a batch may be 64 MiB, one object's own route takes no more than an object.
    const body = await readBody(payload, request.headers['content-length'], request.routeOptions.bodyLimit);
    return body.length === 0 ? undefined : parseJson(body, { limits: BODY_LIMITS });
  };
}
