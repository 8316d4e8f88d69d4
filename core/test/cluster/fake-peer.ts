/**
 * A peer for the internal API's tests: handlers backed by a Map instead of a database, a count of the
 * calls they served, and its log lines parsed.
 */
import { type InternalApi, startInternalApi } from '../../src/cluster/internal-api.js';
import { type PeerCallName, type PeerHandlers, peerCallPath } from '../../src/cluster/peer-calls.js';
import type { ObjectInput, StoredObject } from '../../src/db/index.js';
import { ClassNotFoundError, PeerCallUnknownError, serializeError } from '../../src/errors.js';
import { capturedLogger } from '../helpers/logs.js';

/** The class the fake handlers do not know: any call naming it throws ClassNotFoundError. */
export const MISSING_CLASS = 'Missing';

/** The object `input` is stored as. */
export function stored(input: ObjectInput): StoredObject {
  return {
    class: String(input.class),
    id: String(input.id),
    properties: (input.properties ?? {}) as Record<string, unknown>,
    ...(input.vector === undefined ? {} : { vector: input.vector as number[] }),
    creationTimeUnix: 1_700_000_000_000,
    lastUpdateTimeUnix: 1_700_000_000_000,
  };
}

const known = (className: unknown): void => {
  if (className === MISSING_CLASS) throw new ClassNotFoundError(MISSING_CLASS);
};

/** Handlers over `objects` (keyed `class/id`), counting the calls they serve in `calls`. */
export function fakeHandlers(objects = new Map<string, StoredObject>(), calls: string[] = []): PeerHandlers {
  const key = (className: unknown, id: unknown) => `${className}/${id}`;
  return {
    getObject: async ({ className, id }) => {
      calls.push('getObject');
      known(className);
      return objects.get(key(className, id)) ?? null;
    },
    createObject: async ({ input }) => {
      calls.push('createObject');
      known(input.class);
      const object = stored(input);
      objects.set(key(object.class, object.id), object);
      return object;
    },
    updateObject: async ({ className, id, input, mode }) => {
      calls.push('updateObject');
      known(className);
      const before = objects.get(key(className, id));
      const properties = { ...(mode === 'merge' ? before?.properties : {}), ...(input.properties as object) };
      const object = {
        ...stored({ ...input, class: className, id }),
        properties,
        lastUpdateTimeUnix: 1_800_000_000_000,
      };
      objects.set(key(className, id), object);
      return object;
    },
    deleteObject: async ({ className, id }) => {
      calls.push('deleteObject');
      known(className);
      return objects.delete(key(className, id));
    },
    batchObjects: async ({ inputs }) => {
      calls.push('batchObjects');
      return inputs.map((input) => {
        if (input.class === MISSING_CLASS) return { error: serializeError(new ClassNotFoundError(MISSING_CLASS)) };
        const object = stored(input);
        objects.set(key(object.class, object.id), object);
        return { object };
      });
    },
    listObjects: async ({ className, after, limit }) => {
      calls.push('listObjects');
      known(className);
      return [...objects.values()]
        .filter((object) => object.class === className && (after === undefined || object.id > after))
        .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
        .slice(0, limit);
    },
    shardStats: async ({ className }) => {
      calls.push('shardStats');
      const classes = [...new Set([...objects.values()].map((object) => object.class))].sort();
      return classes
        .filter((name) => className === undefined || name === className)
        .map((name) => ({
          class: name,
          name: 'shard-0',
          node: 'node-b',
          objectCount: [...objects.values()].filter((object) => object.class === name).length,
        }));
    },
    // The participant calls are tested over a real participant (remote-participant.test.ts).
    participantPrepare: notFaked('participantPrepare'),
    participantCommit: notFaked('participantCommit'),
    participantStatus: notFaked('participantStatus'),
    participantAbort: notFaked('participantAbort'),
    participantEvents: notFaked('participantEvents'),
    coordinatorCancel: notFaked('coordinatorCancel'),
  };
}

/** A handler the fake peer does not serve: it fails as a node of a version without the call. */
const notFaked = (call: PeerCallName) => async (): Promise<never> => {
  throw new PeerCallUnknownError('POST', peerCallPath(call));
};

/** A running fake peer. */
export interface FakePeer {
  readonly api: InternalApi;
  readonly objects: Map<string, StoredObject>;
  /** The calls its handlers served, in order. */
  readonly calls: string[];
  /** Its log lines, parsed. */
  readonly logs: Array<Record<string, unknown>>;
}

/** Starts an internal API on a free loopback port with the fake handlers (or `handlers`). */
export async function startFakePeer(
  options: { auth?: { username: string; password: string }; handlers?: PeerHandlers } = {},
): Promise<FakePeer> {
  const objects = new Map<string, StoredObject>();
  const calls: string[] = [];
  const { logger, logs } = capturedLogger('debug');
  const api = await startInternalApi({
    host: '127.0.0.1',
    port: 0,
    handlers: options.handlers ?? fakeHandlers(objects, calls),
    auth: options.auth,
    logger,
  });
  return { api, objects, calls, logs };
}
