/**
 * The checks every call of the internal API makes of its arguments as they come off the wire: an
 * object, a string. `field` is the argument's path in messages (`request.scope`); a failed check
 * throws PeerCallArgsError, answered 400.
 */
import { PeerCallArgsError } from '../errors.js';
import type { PeerCallName } from './peer-calls.js';

/** An object of arguments or fields, as it arrived. */
export type Fields = Readonly<Record<string, unknown>>;

/** `value` as an object (not an array, not null). */
export function argObject(call: PeerCallName, value: unknown, field: string): Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new PeerCallArgsError(call, `${field} must be an object`);
  }
  return value as Fields;
}

/** `value` as a string. */
export function argString(call: PeerCallName, value: unknown, field: string): string {
  if (typeof value !== 'string') throw new PeerCallArgsError(call, `${field} must be a string`);
  return value;
}
