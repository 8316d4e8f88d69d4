import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import {
  AnonymousAccessError,
  AuthSchemeError,
  BodyValueTooLargeError,
  excerpt,
  InvalidApiKeyError,
  InvalidJsonError,
  JsonTooDeepError,
  StrataError,
} from '../errors.js';
import { errorResponse, type ProtocolError, protocolError } from './error-body.js';
import { validationError } from './validation-errors.js';

/** Strata's errors of the layer Weaviate's go-swagger code answers for: their bodies are `{code, message}`. */
const PROTOCOL_CODES = new Set(
  [
    InvalidJsonError,
    JsonTooDeepError,
    BodyValueTooLargeError,
    AnonymousAccessError,
    AuthSchemeError,
    InvalidApiKeyError,
  ].map((e) => e.code),
);

/** The request limits Fastify enforces, which its errors name. */
export interface RequestLimits {
  /** The largest body, in bytes. */
  readonly bodyBytes: number;
  /** The longest path parameter, in characters. */
  readonly paramChars: number;
}

const pathOf = (request: FastifyRequest) => excerpt(request.url.split('?')[0]);

/**
 * Fastify's own errors that reach clients, answered as Weaviate's go-swagger layer would. Its
 * messages quote the whole path; these quote an excerpt.
 */
const FASTIFY_ERRORS: Record<
  string,
  (error: FastifyError, request: FastifyRequest, limits: RequestLimits) => { status: number; body: ProtocolError }
> = {
  FST_ERR_CTP_EMPTY_JSON_BODY: () => ({ status: 422, body: protocolError(602, 'body in body is required') }),
  FST_ERR_CTP_BODY_TOO_LARGE: (_, request, limits) => ({
    status: 413,
    body: protocolError(
      413,
      request.routeOptions.bodyLimit < limits.bodyBytes
        ? `request body is larger than the limit of ${request.routeOptions.bodyLimit} bytes, the most one object may be`
        : `request body is larger than the limit of ${limits.bodyBytes} bytes; send smaller batches`,
    ),
  }),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: (error) => ({ status: 415, body: protocolError(415, error.message) }),
  FST_ERR_BAD_URL: (_, request) => ({
    status: 400,
    body: protocolError(400, `path ${pathOf(request)} is not a valid URL: a %-escape in it does not decode`),
  }),
  FST_ERR_MAX_PARAM_LENGTH: (_, request, limits) => ({
    status: 414,
    body: protocolError(
      414,
      `path ${pathOf(request)} has a parameter longer than ${limits.paramChars} characters, the limit`,
    ),
  }),
};

/**
 * The one place errors become responses, Fastify's routing errors included. A Strata error carries
 * its own status and message (no
 * switch here); request validation and parsing errors get go-openapi bodies; any other client error
 * from Fastify keeps its message. Anything else is a bug: logged with its stack and answered 500 with
 * a message that names the request in the log, not the error, whose message may hold paths and
 * internals.
 */
export function createErrorHandler(limits: RequestLimits) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (error.validation !== undefined) {
      const { code, message } = validationError(error.validation as never, error.validationContext ?? 'body');
      return reply.status(422).send(protocolError(code, message));
    }
    const fastify = error.code === undefined ? undefined : FASTIFY_ERRORS[error.code];
    if (fastify !== undefined) {
      const { status, body } = fastify(error, request, limits);
      return reply.status(status).send(body);
    }
    if (error instanceof StrataError) {
      if (error.statusCode >= 500) request.log.error({ err: error }, error.message);
      return reply
        .status(error.statusCode)
        .send(
          PROTOCOL_CODES.has(error.code)
            ? protocolError(error.statusCode, error.message)
            : errorResponse(error.message),
        );
    }
    const status = error.statusCode ?? 500;
    if (status < 500) return reply.status(status).send(errorResponse(error.message));
    request.log.error({ err: error }, 'unexpected error while handling a request');
    return reply
      .status(500)
      .send(
        errorResponse(
          `internal error while handling the request; the node's log has the details (request ${request.id})`,
        ),
      );
  };
}
