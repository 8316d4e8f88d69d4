/**
 * HTTP Basic authentication (RFC 7617) between the nodes of a cluster: the header a node sends with
 * every internal call, and the check the node answering it makes, in constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

/** The credentials every node of a cluster shares (CLUSTER_BASIC_AUTH_USERNAME / _PASSWORD). */
export interface ClusterCredentials {
  readonly username: string;
  readonly password: string;
}

/** The `Authorization` header value that carries `credentials`. */
export function basicAuthHeader(credentials: ClusterCredentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`, 'utf8').toString('base64')}`;
}

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/**
 * A check of `Authorization` headers against `credentials`: true only for the Basic scheme (any case)
 * with exactly that user and password. The user and the password are each compared as SHA-256 digests
 * with timingSafeEqual, both always, so neither how long the check takes nor where it stops tells a
 * caller how much of either it got right.
 */
export function basicAuthCheck(credentials: ClusterCredentials): (header: string | undefined) => boolean {
  const username = digest(credentials.username);
  const password = digest(credentials.password);
  return (header) => {
    const match = header === undefined ? null : /^basic +([A-Za-z0-9+/]+={0,2}) *$/i.exec(header);
    if (match === null) return false;
    const decoded = Buffer.from(match[1] as string, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon === -1) return false;
    const userMatches = timingSafeEqual(digest(decoded.slice(0, colon)), username);
    const passwordMatches = timingSafeEqual(digest(decoded.slice(colon + 1)), password);
    return userMatches && passwordMatches;
  };
}
