import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/node/index.js';

/** A logger at `level` whose JSON lines are kept, parsed, in `logs`. */
export function capturedLogger(level: string): { logger: Logger; logs: Array<Record<string, unknown>> } {
  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _, done) {
      for (const line of String(chunk).split('\n').filter(Boolean))
        logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger(level, sink), logs };
}
