import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';

/** What a forwarded exchange may do with the upstream response before it reaches the client. */
export interface ForwardOptions {
  /**
   * Called with the upstream response; returns how many body bytes to pass on before `cut` is called,
   * or undefined to pass everything.
   */
  readonly limit?: (upstream: IncomingMessage) => number | undefined;
  /** Called once `limit` bytes have passed; should end the exchange (reset, stall). */
  readonly cut?: (res: ServerResponse) => void;
}

/**
 * Forwards one HTTP request to `target` (an origin such as `http://127.0.0.1:4568`) and streams the
 * answer back, headers and status as they are. Resolves with the upstream status once the exchange ends.
 */
export function forward(
  req: IncomingMessage,
  res: ServerResponse,
  target: string,
  options: ForwardOptions = {},
): Promise<number> {
  const url = new URL(req.url ?? '/', target);
  return new Promise((resolve) => {
    const upstream = httpRequest(url, { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      const limit = options.limit?.(answer);
      let passed = 0;
      answer.on('data', (chunk: Buffer) => {
        if (limit === undefined) {
          res.write(chunk);
          return;
        }
        const room = limit - passed;
        if (room <= 0) return;
        const part = room >= chunk.length ? chunk : chunk.subarray(0, room);
        passed += part.length;
        if (passed < limit) {
          res.write(part);
          return;
        }
        answer.destroy();
        // Cut once the bytes passed on have left, so the client sees them before the fault.
        res.write(part, () => options.cut?.(res));
      });
      answer.on('end', () => res.end());
      answer.on('close', () => resolve(answer.statusCode ?? 502));
    });
    upstream.on('error', () => {
      res.destroy();
      resolve(502);
    });
    req.on('error', () => upstream.destroy());
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  });
}
