/**
 * The client side of the internal API: makes a call of peer-calls.ts on another node and answers its
 * result, or throws the error the node answered, revived as its own class. Whatever keeps the node
 * from answering as the contract says (refused, reset, DNS, a timeout, a reply that is not the
 * contract's JSON) becomes one error, NodeUnavailableError. Bodies both ways are serialised and
 * parsed in slices, so a 64 MiB batch or list never holds the event loop.
 */
import { once } from 'node:events';
import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import { NodeUnavailableError, PeerCredentialsError, reviveError, type SerializedError } from '../errors.js';
import { MAX_JSON_DEPTH, parseJson } from '../sliced-json.js';
import { TimeSlice } from '../time-slice.js';
import { basicAuthHeader, type ClusterCredentials } from './basic-auth.js';
import { MAX_EVENTS_WAIT_MS, type PeerCallName, type PeerCalls, peerCallPath } from './peer-calls.js';

/**
 * The timeout of a call of one object, or of a node's shard counts: each is one read or write of one
 * shard on a node that is up, milliseconds; a node that has not answered in 5 s is as good as down,
 * and the request that waits on it should fail while its own client still waits.
 */
export const SINGLE_CALL_TIMEOUT_MS = 5_000;

/**
 * The timeout of batchObjects and listObjects: up to 64 MiB of objects each way, validated, written
 * or read, and serialised on a node that serves other requests meanwhile, seconds on a busy node.
 */
export const BULK_CALL_TIMEOUT_MS = 30_000;

/**
 * The timeout of participantPrepare: a restore's prepare reads the node's descriptor from the backend
 * (an object store across a network) and checks the disk; seconds, as a bulk call.
 */
export const PREPARE_CALL_TIMEOUT_MS = BULK_CALL_TIMEOUT_MS;

/**
 * The timeout of participantEvents: the longest a poll waits on the node for an event, plus a single
 * call's time to answer once it has one.
 */
export const EVENTS_CALL_TIMEOUT_MS = MAX_EVENTS_WAIT_MS + SINGLE_CALL_TIMEOUT_MS;

/** Each call's timeout by default: the whole call, from connecting to the last byte of the reply. */
export const PEER_CALL_TIMEOUTS: Readonly<Record<PeerCallName, number>> = {
  getObject: SINGLE_CALL_TIMEOUT_MS,
  createObject: SINGLE_CALL_TIMEOUT_MS,
  updateObject: SINGLE_CALL_TIMEOUT_MS,
  deleteObject: SINGLE_CALL_TIMEOUT_MS,
  shardStats: SINGLE_CALL_TIMEOUT_MS,
  batchObjects: BULK_CALL_TIMEOUT_MS,
  listObjects: BULK_CALL_TIMEOUT_MS,
  participantPrepare: PREPARE_CALL_TIMEOUT_MS,
  // Commit starts the work and answers; status and abort answer from memory.
  participantCommit: SINGLE_CALL_TIMEOUT_MS,
  participantStatus: SINGLE_CALL_TIMEOUT_MS,
  participantAbort: SINGLE_CALL_TIMEOUT_MS,
  participantEvents: EVENTS_CALL_TIMEOUT_MS,
  // A cancel answers once its participants stopped and the outcome is recorded.
  coordinatorCancel: BULK_CALL_TIMEOUT_MS,
};

/**
 * Levels of nesting replies may have beyond a request body's: the envelope (`{"result": [...]}`, a
 * batch result's `{"object": ...}`) wraps objects the public API accepted at up to MAX_JSON_DEPTH.
 */
const ENVELOPE_DEPTH = 4;

/** A reply without a content-length starts in a buffer this large, doubled as it grows. */
const INITIAL_BYTES = 64 * 1024;

/** A request body is sent in chunks of about this many characters. */
const CHUNK_CHARS = 64 * 1024;

/** Connections to the peers, kept open between calls. */
const AGENT = new Agent({ keepAlive: true, maxSockets: 64 });

/** How to make calls. */
export interface PeerClientOptions {
  /** The cluster's credentials, sent with every call; the peers refuse calls without them when they have some. */
  readonly auth?: ClusterCredentials | undefined;
  /** Timeouts in milliseconds, by call, replacing {@link PEER_CALL_TIMEOUTS}' (tests make them short). */
  readonly timeouts?: Readonly<Partial<Record<PeerCallName, number>>>;
}

/** The node a call goes to. */
export interface PeerNode {
  /** Its name (CLUSTER_HOSTNAME), for errors. */
  readonly name: string;
  /** Its internal API: `http://10.0.0.2:7101`. */
  readonly internalUrl: string;
}

/** What a call's errors name, and how the caller may stop it. */
export interface PeerCallOptions {
  /** The shard the call is for, named by NodeUnavailableError. */
  readonly shard?: string;
  /** The class the call is for, named by NodeUnavailableError. */
  readonly className?: string;
  /** Aborts the call: it then rejects with the signal's reason, not NodeUnavailableError. */
  readonly signal?: AbortSignal;
}

/** What went wrong in words, for NodeUnavailableError. */
function describe(error: unknown): string {
  const cause = error instanceof Error && error.cause !== undefined ? error.cause : error;
  if (cause instanceof AggregateError && cause.errors.length > 0) return describe(cause.errors[0]);
  const message = cause instanceof Error ? cause.message : String(cause);
  const code = (cause as { code?: unknown } | undefined)?.code;
  // node:http's word for a reply cut short.
  if (message === 'aborted' && code === 'ECONNRESET') return 'the connection closed in the middle of the reply';
  if (message !== '') return message;
  return typeof code === 'string' ? code : 'the connection failed';
}

/** `args` as JSON, arrays (a batch's inputs) one item at a time, letting the event loop turn. */
async function serializeArgs(args: object): Promise<Buffer[]> {
  const slice = new TimeSlice();
  const chunks: Buffer[] = [];
  let text = '{';
  let first = true;
  for (const [key, value] of Object.entries(args)) {
    if (value === undefined) continue;
    text += `${first ? '' : ','}${JSON.stringify(key)}:`;
    first = false;
    if (!Array.isArray(value)) {
      text += JSON.stringify(value);
      continue;
    }
    text += '[';
    for (const [i, item] of value.entries()) {
      text += `${i === 0 ? '' : ','}${JSON.stringify(item) ?? 'null'}`;
      if (text.length >= CHUNK_CHARS) {
        chunks.push(Buffer.from(text));
        text = '';
      }
      if (slice.due) await slice.next();
    }
    text += ']';
  }
  chunks.push(Buffer.from(`${text}}`));
  return chunks;
}

/** The body of `response` in one buffer, copied chunk by chunk as it arrives, in slices. */
async function readReply(response: IncomingMessage): Promise<Buffer> {
  const declared = Number(response.headers['content-length'] ?? Number.NaN);
  let body = Buffer.allocUnsafe(Number.isSafeInteger(declared) && declared >= 0 ? declared : INITIAL_BYTES);
  let length = 0;
  const slice = new TimeSlice();
  for await (const chunk of response as AsyncIterable<Buffer>) {
    if (length + chunk.length > body.length) {
      const grown = Buffer.allocUnsafe(Math.max(2 * body.length, length + chunk.length));
      body.copy(grown, 0, 0, length);
      body = grown;
    }
    body.set(chunk, length);
    length += chunk.length;
    if (slice.due) await slice.next();
  }
  return body.subarray(0, length);
}

/**
 * Sends `chunks` as the body of a POST to `url` and resolves with the response once its headers
 * arrive. node:http with a keep-alive agent, not fetch: a call is a fraction of the request it serves,
 * and fetch's streams cost about as much again as the call's own work.
 */
function post(url: URL, headers: Record<string, string>, chunks: readonly Buffer[], signal: AbortSignal) {
  return new Promise<IncomingMessage>((resolve, reject) => {
    const request = httpRequest(url, { method: 'POST', headers, agent: AGENT, signal }, resolve);
    request.once('error', reject);
    const write = async () => {
      for (const chunk of chunks) {
        if (!request.write(chunk)) await once(request, 'drain');
      }
      request.end();
    };
    write().catch(reject);
  });
}

/** A reply as it arrived. */
interface Reply {
  readonly status: number;
  readonly body: Buffer;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Makes calls of the internal API to other nodes, over node:http (keep-alive connections, one pool
 * per node). One instance serves every node.
 */
export class PeerClient {
  readonly #authorization: string | undefined;
  readonly #timeouts: Readonly<Record<PeerCallName, number>>;

  constructor(options: PeerClientOptions = {}) {
    this.#authorization = options.auth === undefined ? undefined : basicAuthHeader(options.auth);
    this.#timeouts = { ...PEER_CALL_TIMEOUTS, ...options.timeouts };
  }

  /**
   * Makes `call` with `args` on `node` and answers its result.
   * @throws the error the node answered, revived as its class (ClassNotFoundError as ClassNotFoundError,
   *   with its status and message)
   * @throws PeerCredentialsError when the node refused this node's credentials (401)
   * @throws NodeUnavailableError when the node could not be reached, did not answer within the call's
   *   timeout, or answered what is not the internal API's JSON; it names `options.shard` and
   *   `options.className`
   * @throws the reason of `options.signal` when it aborts the call
   */
  async call<K extends PeerCallName>(
    node: PeerNode,
    call: K,
    args: PeerCalls[K]['args'],
    options: PeerCallOptions = {},
  ): Promise<PeerCalls[K]['result']> {
    options.signal?.throwIfAborted();
    const body = await serializeArgs(args);
    const reply = await this.#exchange(node, call, body, options);
    return (await this.#answer(node, reply, options)) as PeerCalls[K]['result'];
  }

  /** Sends the call and reads the whole reply within the call's timeout; any failure is the node's. */
  async #exchange(node: PeerNode, call: PeerCallName, chunks: Buffer[], options: PeerCallOptions): Promise<Reply> {
    const timeout = this.#timeouts[call];
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeout);
    const abort = () => controller.abort(options.signal?.reason);
    options.signal?.addEventListener('abort', abort, { once: true });
    try {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (this.#authorization !== undefined) headers.authorization = this.#authorization;
      // One chunk goes with its length; more are streamed (chunked), never copied into one buffer.
      if (chunks.length === 1) headers['content-length'] = String((chunks[0] as Buffer).length);
      const url = new URL(`${node.internalUrl.replace(/\/+$/, '')}${peerCallPath(call)}`);
      const response = await post(url, headers, chunks, controller.signal);
      return { status: response.statusCode ?? 0, body: await readReply(response) };
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      const reason = timedOut ? `no answer within ${timeout} ms` : describe(error);
      throw new NodeUnavailableError(node.name, reason, options.shard, options.className).withCause(error);
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', abort);
    }
  }

  /** The result a reply carries, or the error it carries, revived; a reply of another shape is the node's failure. */
  async #answer(node: PeerNode, { status, body }: Reply, options: PeerCallOptions): Promise<unknown> {
    const unavailable = (what: string) =>
      new NodeUnavailableError(
        node.name,
        `it answered ${status} with ${what}, not the internal API's JSON`,
        options.shard,
        options.className,
      );
    let reply: unknown;
    try {
      reply = await parseJson(body, { maxDepth: MAX_JSON_DEPTH + ENVELOPE_DEPTH });
    } catch (error) {
      throw unavailable(body.length === 0 ? 'an empty body' : 'a body that is not JSON').withCause(error);
    }
    if (status === 200 && isRecord(reply) && 'result' in reply) return reply.result;
    const error = isRecord(reply) ? reply.error : undefined;
    if (status < 400 || !isRecord(error) || typeof error.message !== 'string')
      throw unavailable('JSON of another shape');
    const revived = reviveError(error as SerializedError);
    if (status === 401) throw new PeerCredentialsError(node.name).withCause(revived);
    throw revived;
  }
}
