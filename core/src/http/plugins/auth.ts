import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { AnonymousAccessError, AuthSchemeError, InvalidApiKeyError } from '../../errors.js';

/** Weaviate's API-key authentication, as configured with AUTHENTICATION_APIKEY_*. */
export interface AuthOptions {
  /** The accepted keys; empty means authentication is off. */
  readonly keys: readonly string[];
  /** Whether a request without any key is let through (AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED). */
  readonly anonymousAccess: boolean;
}

/** Paths that answer without a key, so orchestrators can probe the node. */
const OPEN_PATHS = new Set(['/v1/.well-known/live', '/v1/.well-known/ready']);

const digest = (key: string) => createHash('sha256').update(key).digest();

/** The Bearer scheme (case-insensitive, as HTTP schemes are) and the key after it. */
const BEARER = /^Bearer[ \t]+(.+)$/i;

/**
 * Requires `Authorization: Bearer <key>` on every request but the probes; a header without the
 * scheme is refused, as in Weaviate, not taken for a bare key. A presented key is compared with every
 * accepted one in constant time (through fixed-length digests, so neither content nor length leaks),
 * and keys are never logged. Errors use Weaviate's 401 bodies.
 */
const auth: FastifyPluginAsync<AuthOptions> = async (app, options) => {
  if (options.keys.length === 0) return;
  const accepted = options.keys.map(digest);
  app.addHook('onRequest', async (request) => {
    if (OPEN_PATHS.has(request.url.split('?')[0] ?? '')) return;
    // Weaviate's go-swagger routes before it authenticates: a path it does not serve answers 404
    // (or 405 for another method) whatever the key, and that answer holds no data.
    if (request.is404) return;
    const header = request.headers.authorization;
    if (header === undefined) {
      if (options.anonymousAccess) return;
      throw new AnonymousAccessError();
    }
    const key = BEARER.exec(header)?.[1];
    if (key === undefined) throw new AuthSchemeError();
    const presented = digest(key);
    let match = false;
    for (const known of accepted) match = timingSafeEqual(known, presented) || match;
    if (!match) throw new InvalidApiKeyError();
  });
};

export const authPlugin = fp(auth, { name: 'strata-auth' });
