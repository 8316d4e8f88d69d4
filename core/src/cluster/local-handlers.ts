/**
 * The calls of the internal API served on this node: the object calls from its own Database, the
 * participant calls from its backup participant (participant-handlers.ts), the coordinator call from
 * its backup scheduler (coordinator-handlers.ts). Arguments come off the
 * wire, so each call checks their shape before it touches the data.
 */
import type { Participant } from '../backup/participant.js';
import type { Database, ObjectInput } from '../db/index.js';
import { PeerCallArgsError, serializeError } from '../errors.js';
import { argObject, argString, type Fields } from './call-args.js';
import { type CoordinatorCalls, coordinatorHandlers } from './coordinator-handlers.js';
import { participantHandlers } from './participant-handlers.js';
import type { PeerCallName, PeerHandlers } from './peer-calls.js';

/** Argument `name` of `args`, a string. */
const text = (call: PeerCallName, args: unknown, name: string) =>
  argString(call, (args as Fields | null)?.[name], name);

/** Argument `name` of `args`, a string when given. */
function optionalText(call: PeerCallName, args: unknown, name: string): string | undefined {
  const value = (args as Fields | null)?.[name];
  return value === undefined ? undefined : argString(call, value, name);
}

const input = (call: PeerCallName, value: unknown) => argObject(call, value, 'input') as ObjectInput;

/**
 * Every call of the internal API: the object calls answered by `db` (which serves only this node's
 * shards), the participant calls by `participant`, the coordinator call by `coordinator`.
 */
export function localHandlers(db: Database, participant: Participant, coordinator: CoordinatorCalls): PeerHandlers {
  return {
    getObject: async (args) =>
      (await db.getObject(text('getObject', args, 'className'), text('getObject', args, 'id'))) ?? null,
    createObject: (args) => db.createObject(input('createObject', args?.input)),
    updateObject: (args) => {
      const mode = args?.mode;
      if (mode !== 'replace' && mode !== 'merge')
        throw new PeerCallArgsError('updateObject', 'mode must be replace or merge');
      return db.updateObject(
        text('updateObject', args, 'className'),
        text('updateObject', args, 'id'),
        input('updateObject', args.input),
        mode,
      );
    },
    deleteObject: (args) => db.deleteObject(text('deleteObject', args, 'className'), text('deleteObject', args, 'id')),
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
      const after = optionalText('listObjects', args, 'after');
      return db.listObjects({
        className: text('listObjects', args, 'className'),
        limit,
        ...(after ? { after } : {}),
      });
    },
    shardStats: (args) => db.shardStats(optionalText('shardStats', args, 'className')),
    ...participantHandlers(participant),
    ...coordinatorHandlers(coordinator),
  };
}
