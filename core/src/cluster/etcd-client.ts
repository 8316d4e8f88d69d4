/**
 * The etcd client as the cluster uses it: {@link connectEtcd} makes an `etcd3` client tuned to
 * notice a dead etcd within seconds and to come back within about a second of etcd's return, and
 * checks that etcd answers. {@link isUnavailable} tells "etcd did not answer" from "etcd refused".
 *
 * etcd3's defaults suit a long-lived service that can wait: a circuit breaker that refuses every call
 * for 5 s after 3 failures, a watch backoff growing to 30 s, no deadline on calls, and gRPC's
 * reconnect backoff growing to 2 minutes. A node that must say "etcd is down" quickly, and rejoin
 * soon after it is back, needs all of them short.
 */
import { randomInt } from 'node:crypto';
import {
  ConsecutiveBreaker,
  ConstantBackoff,
  circuitBreaker,
  ExponentialBackoff,
  handleWhen,
  type IBackoff,
  type IPolicy,
  isBrokenCircuitError,
  noop,
  retry,
} from 'cockatiel';
import { Etcd3, GRPCDeadlineExceededError, type IOptions, isRecoverableError } from 'etcd3';
import { EtcdUnreachableError, StrataError } from '../errors.js';

/** Every unary call (get, put, txn, lease grant and revoke) ends by then: etcd answers in milliseconds. */
export const CALL_DEADLINE_MS = 2000;
/** How long {@link connectEtcd}'s first call may take, connecting included. */
const DIAL_TIMEOUT_MS = 3000;
/** With several endpoints, a host that failed 3 calls in a row is skipped for this long. */
const BREAKER_OPEN_MS = 1000;
/** Watch streams reconnect after 100 ms, doubling to at most this. */
const WATCH_BACKOFF_MAX_MS = 1000;

/** The endpoints each client of {@link connectEtcd} was made for: what its errors name. */
const endpointsByClient = new WeakMap<Etcd3, readonly string[]>();

/** The endpoints `client` was connected to by {@link connectEtcd}; empty for a client made elsewhere. */
export function endpointsOf(client: Etcd3): readonly string[] {
  return endpointsByClient.get(client) ?? [];
}

/** The text of an error, for a message that quotes it as the reason. */
export function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * True when `error` means etcd did not answer (unavailable, deadline exceeded, the connection reset,
 * a host skipped by the breaker), as opposed to an answer of etcd's (a request too large, a denied
 * permission) or a Strata error: only the first is worth "retry when etcd is back".
 */
export function isUnavailable(error: unknown): boolean {
  if (!(error instanceof Error) || error instanceof StrataError) return false;
  return isRecoverableError(error) || isBrokenCircuitError(error);
}

/** `error` as an {@link EtcdUnreachableError} when etcd did not answer `client`; unchanged otherwise. */
export function unreachable(client: Etcd3, error: unknown): unknown {
  return isUnavailable(error) ? new EtcdUnreachableError(endpointsOf(client), reasonOf(error)).withCause(error) : error;
}

/** The fault handling for `endpoints`: see the module comment for why each part is short. */
function faultHandling(endpoints: readonly string[]): NonNullable<IOptions['faultHandling']> {
  const recoverable = handleWhen(isRecoverableError);
  // Not after a deadline: the call may have been applied with only its answer late, and a
  // transaction run twice answers the second time as if another node had won ("class exists").
  const retriable = handleWhen((error) => isRecoverableError(error) && !(error instanceof GRPCDeadlineExceededError));
  // A breaker only helps route calls around a dead member; with one endpoint it would only refuse
  // calls for a while after etcd is back.
  const host = (): IPolicy =>
    endpoints.length === 1
      ? noop
      : circuitBreaker(recoverable, { halfOpenAfter: BREAKER_OPEN_MS, breaker: new ConsecutiveBreaker(3) });
  // Each retry goes to another host: one retry per other endpoint, and one at least (a reset connection).
  const global = retry(retriable, {
    maxAttempts: Math.max(1, endpoints.length - 1),
    backoff: new ConstantBackoff(50),
  });
  // etcd3 takes the first backoff from `next()` of what it is given, again after each successful
  // reconnect, so a factory dressed as a backoff restarts the sequence from 100 ms each time.
  const exponential = new ExponentialBackoff({ initialDelay: 100, maxDelay: WATCH_BACKOFF_MAX_MS });
  const watchBackoff: IBackoff<unknown> = { duration: 100, next: () => exponential.next() };
  return { host, global, watchBackoff };
}

/** The client options for `endpoints`. */
function clientOptions(endpoints: readonly string[]): IOptions {
  return {
    hosts: [...endpoints],
    // etcd3 1.1.2 reads dialTimeout nowhere: the deadlines below are what bound a connection attempt.
    dialTimeout: DIAL_TIMEOUT_MS,
    // Streams (watch, lease keepalive) live for as long as the node runs: no deadline for them.
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + CALL_DEADLINE_MS }),
    faultHandling: faultHandling(endpoints),
    grpcOptions: {
      // gRPC waits up to 2 minutes between reconnects to a dead host: reconnect within a second instead.
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 1000,
      // Notice a connection that died silently (a host gone without a reset); etcd refuses pings under 5 s.
      'grpc.keepalive_time_ms': 10_000,
      'grpc.keepalive_timeout_ms': 3000,
    },
  };
}

/**
 * An etcd client for `endpoints` (client URLs such as `http://127.0.0.1:2379`), once etcd answers a
 * status call through it. Unary calls then fail within a few seconds when etcd does not answer;
 * lease keepalives and watches reconnect within about a second of etcd's return. The caller closes
 * it (`client.close()`).
 *
 * @throws EtcdUnreachableError when no endpoint is given, or etcd does not answer within 3 s.
 */
export async function connectEtcd(endpoints: readonly string[]): Promise<Etcd3> {
  if (endpoints.length === 0) throw new EtcdUnreachableError(endpoints, 'no endpoint is configured');
  let client: Etcd3;
  try {
    client = new Etcd3(clientOptions(endpoints));
  } catch (error) {
    // A mix of http:// and https:// endpoints, which etcd3 refuses.
    throw new EtcdUnreachableError(endpoints, reasonOf(error)).withCause(error);
  }
  endpointsByClient.set(client, [...endpoints]);
  try {
    // One deadline for the whole check, retries included.
    await client.maintenance.status({ deadline: Date.now() + DIAL_TIMEOUT_MS });
  } catch (error) {
    client.close();
    throw new EtcdUnreachableError(endpoints, reasonOf(error)).withCause(error);
  }
  return client;
}

/** `ms` milliseconds with a tenth of jitter, so nodes that lost etcd together do not retry in step. */
export function jittered(ms: number): number {
  return ms + randomInt(Math.max(1, Math.floor(ms / 10)));
}

/** Resolves after `ms`, without keeping the process alive. */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** `promise`, or undefined once `ms` have passed: for cleanup that must not hang while etcd is down. */
export function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms).unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
