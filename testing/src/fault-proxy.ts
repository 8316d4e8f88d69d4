import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { forward } from './forward.js';
import { listen } from './process.js';
import { sendS3Error } from './s3-error.js';

/** What the proxy does to one request. */
export type Fault =
  /** Answers with this status and an S3-style XML error body, without forwarding. */
  | { readonly kind: 'status'; readonly status: number; readonly code?: string }
  /** Answers with exactly this response, without forwarding (e.g. a redirect to another region). */
  | {
      readonly kind: 'reply';
      readonly status: number;
      readonly headers?: Record<string, string>;
      readonly body?: string;
    }
  /** Closes the connection: before forwarding, or after passing `afterBytes` bytes of the response body. */
  | { readonly kind: 'reset'; readonly afterBytes?: number }
  /** Holds the request for `ms` before forwarding, or the response after `afterBytes` bytes. */
  | { readonly kind: 'stall'; readonly ms: number; readonly afterBytes?: number }
  /**
   * Holds the request, before forwarding, until `until` resolves, then forwards it untouched: a test
   * stalls a write (every PUT of one key, say) for as long as it needs, e.g. while it kills a process.
   * Rejected, `until` forwards the request all the same; a request whose client went away while held
   * (a killed process) is not forwarded at all, and is recorded with status 0.
   */
  | { readonly kind: 'hold'; readonly until: Promise<void> };

/** One request as the proxy saw it. */
export interface ProxiedRequest {
  readonly method: string;
  readonly url: string;
  /** The fault applied, if any. */
  readonly fault: Fault['kind'] | undefined;
  /** The status the client got (0 when the connection was cut). */
  status: number;
}

/** Decides the fault for the `n`-th request (from 0); undefined forwards it untouched. */
export type FaultPlan = (request: { method: string; url: string; n: number }) => Fault | undefined;

/** A fault-injecting HTTP proxy in front of a server. */
export interface FaultProxy {
  /** `http://127.0.0.1:PORT`: point the client here instead of at the server. */
  readonly endpoint: string;
  /** Every request so far, in arrival order. */
  readonly requests: readonly ProxiedRequest[];
  /** Replaces the plan for requests from now on. */
  setPlan(plan: FaultPlan): void;
  stop(): Promise<void>;
}

const S3_ERROR_CODES: Record<number, string> = { 500: 'InternalError', 503: 'SlowDown' };

function reply(res: ServerResponse, fault: Extract<Fault, { kind: 'status' | 'reply' }>): void {
  if (fault.kind === 'reply') {
    res.writeHead(fault.status, fault.headers).end(fault.body);
    return;
  }
  sendS3Error(res, fault.status, fault.code ?? S3_ERROR_CODES[fault.status] ?? 'InternalError', 'injected');
}

/**
 * Starts an HTTP proxy on a free port that forwards to `target` and applies `plan` to each request:
 * error statuses, canned replies, connection resets and stalls, before or part-way through a response,
 * and holds until the test lets a request go.
 * Streams both ways, so large uploads and downloads pass through at full speed.
 */
export async function startFaultProxy(target: string, plan: FaultPlan = () => undefined): Promise<FaultProxy> {
  let current = plan;
  const requests: ProxiedRequest[] = [];
  const sockets = new Set<Socket>();
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const fault = current({ method, url, n: requests.length });
    const seen: ProxiedRequest = { method, url, fault: fault?.kind, status: 0 };
    requests.push(seen);
    if (fault?.kind === 'status' || fault?.kind === 'reply') {
      // Read the body first, as a server does, so the client sees the answer rather than a broken pipe.
      for await (const _ of req);
      reply(res, fault);
      seen.status = fault.status;
      return;
    }
    if (fault?.kind === 'reset' && fault.afterBytes === undefined) {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'stall' && fault.afterBytes === undefined) await sleep(fault.ms);
    if (fault?.kind === 'hold') {
      let left = false;
      res.once('close', () => {
        left = true;
      });
      await fault.until.catch(() => {});
      // The client gave up or died while held: as far as the server is concerned, nothing was sent.
      if (left || req.socket.destroyed) return;
    }
    const cutAt = fault?.kind === 'reset' || fault?.kind === 'stall' ? fault.afterBytes : undefined;
    seen.status = await forward(req, res, target, {
      limit: () => cutAt,
      cut: (response) => {
        if (fault?.kind === 'stall') setTimeout(() => response.destroy(), fault.ms).unref();
        else response.destroy();
      },
    });
    if (cutAt !== undefined) seen.status = 0;
  };
  const server = createServer((req, res) => void handle(req, res));
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const { port } = await listen(server);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    setPlan(next) {
      current = next;
    },
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
