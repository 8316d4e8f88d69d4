import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { StrataError } from '../errors.js';
import { errorResponse, type ProtocolError } from './error-body.js';
import { validationError } from './validation-errors.js';

/** Fastify's own errors that reach clients, answered as Weaviate's go-swagger layer would. */
const PROTOCOL_ERRORS: Record<
  string,
  (error: FastifyError, bodyLimit: number) => { status: number; body: ProtocolError }
> = {
  STRATA_HTTP_INVALID_JSON: (error) => invalidJson(error),
  FST_ERR_CTP_EMPTY_JSON_BODY: () => ({ status: 422, body: { code: 602, message: 'body in body is required' } }),
  FST_ERR_CTP_BODY_TOO_LARGE: (_, limit) => ({
    status: 413,
    body: { code: 413, message: `request body is larger than the limit of ${limit} bytes; send smaller batches` },
  }),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: (error) => ({ status: 415, body: { code: 415, message: error.message } }),
};

function invalidJson(error: Error): { status: number; body: ProtocolError } {
  return { status: 400, body: { code: 400, message: `parsing body body from "" failed, because ${error.message}` } };
}

/**
 * The one place errors become responses. A Strata error carries its own status and message (no
 * switch here); request validation and parsing errors get go-openapi bodies; anything else is a bug:
 * logged with its stack and answered 500.
 */
export function createErrorHandler(bodyLimit: number) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (error.validation !== undefined) {
      return reply.status(422).send(validationError(error.validation as never, error.validationContext ?? 'body'));
    }
    const protocol = error.code === undefined ? undefined : PROTOCOL_ERRORS[error.code];
    if (protocol !== undefined) {
      const { status, body } = protocol(error, bodyLimit);
      return reply.status(status).send(body);
    }
    if (error instanceof StrataError) {
      if (error.statusCode >= 500) request.log.error({ err: error }, error.message);
      return reply.status(error.statusCode).send(errorResponse(error.message));
    }
    request.log.error({ err: error }, 'unexpected error while handling a request');
    return reply.status(error.statusCode ?? 500).send(errorResponse(error.message));
  };
}
