import type { CheckClock } from './deadline.js';

/**
 * A Strata node's REST API as a journey calls it: every request, and every wait for an operation to
 * end, stops at the deadline of the check making it.
 */

// biome-ignore lint/suspicious/noExplicitAny: replies are read field by field, as a client would.
export type Json = any;

/** A node's answer: its status and its JSON body (undefined when empty). */
export interface Reply {
  readonly status: number;
  readonly body: Json;
}

/** The statuses a backup or restore ends in. */
export const FINISHED: ReadonlySet<string> = new Set(['SUCCESS', 'FAILED', 'CANCELED']);

/** One node's REST API, within one check's deadline. */
export interface NodeApi {
  /** `http://127.0.0.1:PORT` of the node's public API. */
  readonly url: string;
  call(method: string, path: string, body?: unknown): Promise<Reply>;
  /**
   * Polls a status URL until the operation ends, or the check's deadline passes: then it rejects
   * (and the check fails) saying the status it was stuck at.
   */
  finished(path: string): Promise<Json>;
}

/** How often a journey asks for a status while it waits. */
export const POLL_MS = 20;

/** The REST API of the node at `url`, its requests ended at `clock`'s deadline. */
export function nodeApi(url: string, clock: CheckClock): NodeApi {
  const call = async (method: string, path: string, body?: unknown): Promise<Reply> => {
    // At the deadline the request ends too, so that the node can stop even when its backend hangs.
    // A signal of its own per request: fetch leaves its listener on the signal it is given.
    const request = new AbortController();
    const abort = () => request.abort(clock.signal.reason);
    clock.signal.addEventListener('abort', abort, { once: true });
    try {
      const response = await fetch(`${url}${path}`, {
        method,
        signal: request.signal,
        ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
      });
      const text = await response.text();
      return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
    } finally {
      clock.signal.removeEventListener('abort', abort);
    }
  };
  return {
    url,
    call,
    async finished(path) {
      try {
        for (;;) {
          const reply = await call('GET', path);
          if (reply.status !== 200 || FINISHED.has(reply.body.status)) return reply.body;
          const stuck = `GET ${path} still answered status ${reply.body.status} at the deadline (${clock.text})`;
          clock.waitingFor(stuck);
          if (clock.expired) throw new Error(stuck);
          await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        }
      } finally {
        clock.waitingFor(undefined);
      }
    },
  };
}
