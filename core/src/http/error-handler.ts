import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import {
  AnonymousAccessError,
  AuthSchemeError,
  InvalidApiKeyError,
  InvalidJsonError,
  JsonTooDeepError,
  StrataError,
} from '../errors.js';
import { errorResponse, type ProtocolError, protocolError } from './error-body.js';
import { validationError } from './validation-errors.js';

/** Strata's errors of the layer Weaviate's go-swagger code answers for: their bodies are `{code, message}`. */
const PROTOCOL_CODES = new Set(
  [InvalidJsonError, JsonTooDeepError, AnonymousAccessError, AuthSchemeError, InvalidApiKeyError].map((e) => e.code),
);

/** Fastify's own errors that reach clients, answered as Weaviate's go-swagger layer would. */
const FASTIFY_ERRORS: Record<
  string,
  (error: FastifyError, bodyLimit: number) => { status: number; body: ProtocolError }
> = {
  FST_ERR_CTP_EMPTY_JSON_BODY: () => ({ status: 422, body: protocolError(602, 'body in body is required') }),
  FST_ERR_CTP_BODY_TOO_LARGE: (_, limit) => ({
    status: 413,
    body: protocolError(413, `request body is larger than the limit of ${limit} bytes; send smaller batches`),
  }),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: (error) => ({ status: 415, body: protocolError(415, error.message) }),
};

/**
 * The one place errors become responses. A Strata error carries its own status and message (no
 * switch here); request validation and parsing errors get go-openapi bodies; any other client error
 * from Fastify keeps its message. Anything else is a bug: logged with its stack and answered 500 with
 * a message that names the request in the log, not the error, whose message may hold paths and
 * internals.
 */
export function createErrorHandler(bodyLimit: number) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (error.validation !== undefined) {
      const { code, message } = validationError(error.validation as never, error.validationContext ?? 'body');
      return reply.status(422).send(protocolError(code, message));
    }
    const fastify = error.code === undefined ? undefined : FASTIFY_ERRORS[error.code];
    if (fastify !== undefined) {
      const { status, body } = fastify(error, bodyLimit);
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
