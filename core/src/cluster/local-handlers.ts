/**
 * The calls of the internal API served on this node: the object calls from its own Database, the
 * participant calls from its backup participant (participant-handlers.ts). Arguments come off the
 * wire, so each call checks their shape before it touches the data.
 */
import type { Participant } from '../backup/participant.js';
import type { Database, ObjectInput } from '../db/index.js';
import { PeerCallArgsError, serializeError } from '../errors.js';
import { participantHandlers } from './participant-handlers.js';
import type { PeerCallName, PeerHandlers } from './peer-calls.js';

function text(call: PeerCallName, args: unknown, field: string, optional = false): string | undefined {
  const value = (args as Record<string, unknown> | null)?.[field];
  if (value === undefined && optional) return undefined;
  if (typeof value !== 'string') throw new PeerCallArgsError(call, `${field} must be a string`);
  return value;
}

const requiredText = (call: PeerCallName, args: unknown, field: string) => text(call, args, field) as string;

function input(call: PeerCallName, value: unknown): ObjectInput {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new PeerCallArgsError(call, 'input must be an object');
  }
  return value as ObjectInput;
}

/**
 * Every call of the internal API: the object calls answered by `db` (which serves only this node's
 * shards), the participant calls by `participant`.
 */
export function localHandlers(db: Database, participant: Participant): PeerHandlers {
  return {
    getObject: async (args) =>
      (await db.getObject(requiredText('getObject', args, 'className'), requiredText('getObject', args, 'id'))) ?? null,
    createObject: (args) => db.createObject(input('createObject', args?.input)),
    updateObject: (args) => {
      const mode = args?.mode;
      if (mode !== 'replace' && mode !== 'merge')
        throw new PeerCallArgsError('updateObject', 'mode must be replace or merge');
      return db.updateObject(
        requiredText('updateObject', args, 'className'),
        requiredText('updateObject', args, 'id'),
        input('updateObject', args.input),
        mode,
      );
    },
    deleteObject: (args) =>
      db.deleteObject(requiredText('deleteObject', args, 'className'), requiredText('deleteObject', args, 'id')),
    batchObjects: async (args) => {
      if (!Array.isArray(args?.inputs)) throw new PeerCallArgsError('batchObjects', 'inputs must be an array');
      const inputs = args.inputs.map((value) => input('batchObjects', value));
      return (await db.batchObjects(inputs)).map((result) =>
        'object' in result ? { object: result.object } : { error: serializeError(result.error) },
      );
    },
    listObjects: (args) => {
      const limit = args?.limit;
      if (!Number.isInteger(limit) || limit < 0)
        throw new PeerCallArgsError('listObjects', 'limit must be a whole number');
      const after = text('listObjects', args, 'after', true);
      return db.listObjects({
        className: requiredText('listObjects', args, 'className'),
        limit,
        ...(after ? { after } : {}),
      });
    },
    shardStats: (args) => db.shardStats(text('shardStats', args, 'className', true)),
    ...participantHandlers(participant),
  };
}
