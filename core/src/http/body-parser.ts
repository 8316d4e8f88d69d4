import type { FastifyRequest } from 'fastify';
import secureJson from 'secure-json-parse';
import { InvalidJsonError } from '../errors.js';

/**
 * Parses every request body as JSON, whatever its content type, as Weaviate does (`curl -d` sends
 * form encoding). Bodies that set `__proto__` or `constructor.prototype` are refused, not merged.
 */
export function parseJsonBody(
  _: FastifyRequest,
  body: string,
  done: (error: Error | null, value?: unknown) => void,
): void {
  if (body === '') {
    done(null, undefined);
    return;
  }
  try {
    done(null, secureJson.parse(body, undefined, { protoAction: 'error', constructorAction: 'error' }));
  } catch (error) {
    done(new InvalidJsonError((error as Error).message));
  }
}
