/**
 * The internal API: the HTTP server on CLUSTER_DATA_BIND_PORT that answers the calls other nodes make
 * to this one (peer-calls.ts), a Fastify instance of its own beside the public one. Bodies are read
 * and parsed in slices, large results sent in slices, errors answered by code so the caller revives
 * them, and every request refused without the cluster's credentials when they are set.
 */
import type { AddressInfo } from 'node:net';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import {
  InternalAuthError,
  PeerCallArgsError,
  PeerCallTooLargeError,
  PeerCallUnknownError,
  serializeError,
} from '../errors.js';
import { jsonBodyParser } from '../http/body-parser.js';
import { sendJsonArray } from '../http/json-reply.js';
import { BODY_LIMIT_BYTES } from '../http/server.js';
import { basicAuthCheck, type ClusterCredentials } from './basic-auth.js';
import { type PeerCallName, type PeerHandlers, peerCallPath } from './peer-calls.js';

/** How a call's route serves it. */
interface Route {
  /** Its result is an array of many objects, sent in slices. */
  readonly many?: true;
  /** It may wait (a long poll): its handler gets a signal that aborts when the caller goes or the API closes. */
  readonly waits?: true;
}

/**
 * Every call and how its route serves it. A Record, so that a call added to PeerCalls without a route
 * here does not compile.
 */
const ROUTES: Readonly<Record<PeerCallName, Route>> = {
  getObject: {},
  createObject: {},
  updateObject: {},
  deleteObject: {},
  batchObjects: { many: true },
  listObjects: { many: true },
  shardStats: {},
  participantPrepare: {},
  participantCommit: {},
  participantStatus: {},
  participantAbort: {},
  participantEvents: { waits: true },
  coordinatorCancel: {},
};

/** How to start the internal API. */
export interface InternalApiOptions {
  /** Interface to listen on. */
  readonly host: string;
  /** Port to listen on (CLUSTER_DATA_BIND_PORT); 0 picks a free one (see {@link InternalApi.url}). */
  readonly port: number;
  /** What answers each call. */
  readonly handlers: PeerHandlers;
  /** The cluster's credentials: when given, every request without them is refused 401. */
  readonly auth?: ClusterCredentials | undefined;
  /** Where the API logs: one debug line per call, errors of the node itself (5xx) at error. */
  readonly logger: FastifyBaseLogger;
}

/** A running internal API. */
export interface InternalApi {
  /** Where it listens, with the port actually bound: `http://127.0.0.1:7101`. */
  readonly url: string;
  /** Stops listening, lets the calls in flight finish, and closes idle keep-alive connections. */
  close(): Promise<void>;
}

const pathOf = (request: FastifyRequest): string => request.url.split('?')[0] as string;

/** The call a request's path names (its last segment), for messages. */
const callOf = (request: FastifyRequest): string => pathOf(request).split('/').pop() as string;

/** One line per call, when it completes, at debug: the public request log is noisy enough. */
class CallLog extends LogController {
  override incomingRequest(): void {}

  override routeNotFound(): void {}

  override requestCompleted(_error: unknown, request: FastifyRequest, reply: FastifyReply): void {
    request.log.debug(
      { call: pathOf(request), statusCode: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 },
      'internal call answered',
    );
  }
}

/** An error's own HTTP status when it has a client or server error's, else 500. */
function statusOf(error: unknown): number {
  const status = (error as { statusCode?: unknown }).statusCode;
  return typeof status === 'number' && Number.isInteger(status) && status >= 400 && status <= 599 ? status : 500;
}

/** Answers `error` as the contract says: its status, `{"error": serializeError(error)}`. */
function sendError(reply: FastifyReply, error: unknown): FastifyReply {
  return reply.status(statusOf(error)).send({ error: serializeError(error) });
}

function errorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  // Fastify's own error names no code a peer knows: answer one that does.
  const answered =
    error.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? new PeerCallTooLargeError(callOf(request), BODY_LIMIT_BYTES) : error;
  if (statusOf(answered) >= 500) request.log.error({ err: error }, `internal call ${pathOf(request)} failed`);
  return sendError(reply, answered);
}

/** What a body that is not an object of arguments is, for {@link PeerCallArgsError}. */
function argsProblem(body: unknown): string | undefined {
  if (body === undefined) return 'the body is empty';
  if (body === null || typeof body !== 'object') return `the body is ${body === null ? 'null' : typeof body}`;
  return Array.isArray(body) ? 'the body is an array' : undefined;
}

/** Hands `args` to a call that may wait, with a signal that aborts when its caller goes or `closing` does. */
async function handleWaiting(
  handle: (args: unknown, signal?: AbortSignal) => Promise<unknown>,
  args: unknown,
  reply: FastifyReply,
  closing: AbortSignal,
): Promise<unknown> {
  const gone = new AbortController();
  const onClose = () => gone.abort();
  // 'close' before the reply is sent: the caller's connection closed.
  reply.raw.once('close', onClose);
  try {
    return await handle(args, AbortSignal.any([closing, gone.signal]));
  } finally {
    reply.raw.off('close', onClose);
  }
}

/**
 * Starts the internal API on `host`:`port` with one `POST /cluster/v1/<call>` route per call of
 * PeerCalls, each handing its body to `handlers[call]` (a call that waits also a signal that aborts
 * when its caller goes away or the API closes) and answering 200 `{"result": ...}`. Bodies
 * are parsed as the public API parses them (in slices, refused 413 above its 64 MiB limit, 400 when
 * not JSON); results of batchObjects and listObjects are serialised in slices. Any error is answered
 * with its status (500 when it has none) and `{"error": serializeError(error)}`; a path that names no
 * call 404 with {@link PeerCallUnknownError}; with `auth`, a request without those credentials 401
 * with {@link InternalAuthError}, before its body is read.
 */
export async function startInternalApi(options: InternalApiOptions): Promise<InternalApi> {
  const app = Fastify({
    loggerInstance: options.logger,
    logController: new CallLog(),
    bodyLimit: BODY_LIMIT_BYTES,
    frameworkErrors: errorHandler,
    exposeHeadRoutes: false,
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', jsonBodyParser());
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, new PeerCallUnknownError(request.method, pathOf(request))),
  );

  // Aborted as the API starts closing, so a long poll answers at once rather than hold the close up.
  const closing = new AbortController();
  app.addHook('preClose', async () => closing.abort());

  const auth = options.auth;
  if (auth !== undefined) {
    const authorized = basicAuthCheck(auth);
    app.addHook('onRequest', async (request, reply) => {
      if (authorized(request.headers.authorization)) return;
      reply.header('www-authenticate', 'Basic realm="strata-cluster", charset="UTF-8"');
      return sendError(reply, new InternalAuthError());
    });
  }

  for (const [call, route] of Object.entries(ROUTES) as Array<[PeerCallName, Route]>) {
    const handle = options.handlers[call] as (args: unknown, signal?: AbortSignal) => Promise<unknown>;
    app.post(peerCallPath(call), async (request, reply) => {
      const problem = argsProblem(request.body);
      if (problem !== undefined) throw new PeerCallArgsError(call, problem);
      const result = route.waits
        ? await handleWaiting(handle, request.body, reply, closing.signal)
        : await handle(request.body);
      if (route.many && Array.isArray(result)) {
        return sendJsonArray(reply, result, (item) => item, { before: '{"result":', after: '}' });
      }
      return reply.type('application/json; charset=utf-8').send({ result });
    });
  }

  await app.listen({
    host: options.host,
    port: options.port,
    listenTextResolver: (address) => `internal API listening at ${address}`,
  });
  const address = app.server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return { url: `http://${host}:${address.port}`, close: () => app.close() };
}
