/**
 * The participant calls of the internal API, answered by this node's backup participant for a
 * coordinator on another node. Arguments come off the wire: each is checked and rebuilt from the
 * fields it checked before the participant sees it. Events are read once from the participant and
 * kept by index, so a coordinator long-polls from the last index it has and misses none.
 */
import { COMPRESSION_LEVELS, type CompressionLevel } from '../backup/chunk-codec.js';
import { isBackupId, MAX_BACKUP_ID_LENGTH } from '../backup/descriptors.js';
import { EventLog } from '../backup/event-log.js';
import { operationKey } from '../backup/operation-store.js';
import type {
  OperationRef,
  Participant,
  ParticipantEvent,
  PrepareBackup,
  PrepareRestore,
} from '../backup/participant.js';
import { CLASS_NAME } from '../db/index.js';
import { NODE_NAME, NODE_NAME_RULE } from '../db/names.js';
import { ParticipantOperationUnknownError, PeerCallArgsError } from '../errors.js';
import { argObject, argString, type Fields } from './call-args.js';
import { MAX_EVENTS_WAIT_MS, type PeerCallName, type PeerCalls, type PeerHandlers } from './peer-calls.js';

// ---------------------------------------------------------------------------------------------
// The participant calls' arguments. `field` is the argument's path in messages (`request.scope`).
// ---------------------------------------------------------------------------------------------

/** More chunks in flight than any node plans (80% of its cores at most): each is a thread. */
const MAX_CONCURRENCY = 256;

const COMPRESSIONS: ReadonlySet<string> = new Set(COMPRESSION_LEVELS);

function strings(call: PeerCallName, value: unknown, field: string, rule?: RegExp): string[] {
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string' || !(rule?.test(item) ?? true))) {
    throw new PeerCallArgsError(
      call,
      `${field} must be an array of ${rule === CLASS_NAME ? 'class names' : 'strings'}`,
    );
  }
  return [...value];
}

function concurrency(call: PeerCallName, value: unknown, field: string): number {
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > MAX_CONCURRENCY) {
    throw new PeerCallArgsError(call, `${field} must be a whole number from 1 to ${MAX_CONCURRENCY}`);
  }
  return value as number;
}

/** The operation `value` names, as far as an operation key and a backend call need: checked, rebuilt. */
export function operation(call: PeerCallName, value: unknown, field = 'operation'): OperationRef {
  const ref = argObject(call, value, field);
  if (ref.kind !== 'backup' && ref.kind !== 'restore') {
    throw new PeerCallArgsError(call, `${field}.kind must be backup or restore`);
  }
  if (typeof ref.id !== 'string' || !isBackupId(ref.id)) {
    throw new PeerCallArgsError(
      call,
      `${field}.id must be a backup id (1 to ${MAX_BACKUP_ID_LENGTH} of a-z, 0-9, "_" and "-")`,
    );
  }
  const backend = argString(call, ref.backend, `${field}.backend`);
  if (backend === '') throw new PeerCallArgsError(call, `${field}.backend must name a module`);
  const scope = argObject(call, ref.scope, `${field}.scope`);
  const bucket = scope.bucket === undefined ? undefined : argString(call, scope.bucket, `${field}.scope.bucket`);
  const path = scope.path === undefined ? undefined : argString(call, scope.path, `${field}.scope.path`);
  return {
    kind: ref.kind,
    id: ref.id,
    backend,
    scope: { ...(bucket === undefined ? {} : { bucket }), ...(path === undefined ? {} : { path }) },
  };
}

/** The backup or restore `value` asks to prepare: checked, rebuilt. */
function prepareRequest(value: unknown): PrepareBackup | PrepareRestore {
  const call = 'participantPrepare';
  const ref = operation(call, value, 'request');
  const request = value as Fields;
  if (ref.kind === 'backup') {
    const compression = request.compression;
    if (typeof compression !== 'string' || !COMPRESSIONS.has(compression)) {
      throw new PeerCallArgsError(call, `request.compression must be one of ${[...COMPRESSION_LEVELS].join(', ')}`);
    }
    const startedAt = argString(call, request.startedAt, 'request.startedAt');
    if (startedAt.length > 64 || Number.isNaN(Date.parse(startedAt))) {
      throw new PeerCallArgsError(call, 'request.startedAt must be a time (ISO 8601)');
    }
    return {
      ...ref,
      kind: 'backup',
      classes: strings(call, request.classes, 'request.classes', CLASS_NAME),
      compression: compression as CompressionLevel,
      concurrency: concurrency(call, request.concurrency, 'request.concurrency'),
      startedAt,
    };
  }
  const backupNode = request.backupNode;
  if (typeof backupNode !== 'string' || !NODE_NAME.test(backupNode)) {
    throw new PeerCallArgsError(call, `request.backupNode must be a node name (${NODE_NAME_RULE})`);
  }
  const list = (name: 'include' | 'exclude') =>
    request[name] === undefined ? undefined : strings(call, request[name], `request.${name}`);
  return {
    ...ref,
    kind: 'restore',
    backupNode,
    include: list('include'),
    exclude: list('exclude'),
    concurrency: concurrency(call, request.concurrency, 'request.concurrency'),
  };
}

function index(call: PeerCallName, value: unknown, field: string): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0) {
    throw new PeerCallArgsError(call, `${field} must be a whole number, 0 or more`);
  }
  return value as number;
}

// ---------------------------------------------------------------------------------------------
// participantEvents: each operation's events read once from the participant and kept by index.
// ---------------------------------------------------------------------------------------------

/** Finished operations whose events stay kept for a coordinator that polls again (as LocalParticipant keeps its own). */
const KEPT_FINISHED = 16;

class EventMirrors {
  readonly #participant: Participant;
  readonly #logs = new Map<string, EventLog<ParticipantEvent>>();
  /** The keys of the closed logs, oldest first. */
  readonly #finished = new Set<string>();

  constructor(participant: Participant) {
    this.#participant = participant;
  }

  /**
   * The events of `ref` from index `from`, once there is one, `waitMs` passed or `signal` aborted.
   * @throws ParticipantOperationUnknownError when the participant does not hold the operation
   */
  async poll(
    ref: OperationRef,
    from: number,
    waitMs: number,
    signal?: AbortSignal,
  ): Promise<PeerCalls['participantEvents']['result']> {
    const key = operationKey(ref);
    const status = await this.#participant.status(ref);
    let log = this.#logs.get(key);
    if (status === undefined && !log?.closed) {
      // Never held, or dropped before it ran (an abort before the commit: no `done` will come).
      this.#logs.delete(key);
      throw new ParticipantOperationUnknownError(this.#participant.node, ref.kind, ref.id);
    }
    // A closed log of an operation that runs again (a second restore of one backup) is the last run's.
    if (log === undefined || (log.closed && status !== undefined && status.phase !== 'DONE')) {
      log = this.#follow(key, ref);
    }
    await log.wait(from, Math.min(waitMs, MAX_EVENTS_WAIT_MS), signal);
    if (log.closed && from > log.length) {
      throw new PeerCallArgsError('participantEvents', `from is past the last event (the operation had ${log.length})`);
    }
    const events = log.from(from);
    return { events, next: from + events.length };
  }

  /** Forgets the events kept of `ref`: it is prepared again, a new run whose events start afresh. */
  forget(ref: OperationRef): void {
    const key = operationKey(ref);
    this.#logs.delete(key);
    this.#finished.delete(key);
  }

  /** A log of `ref`'s events, filled from the participant's from the first; a broken stream ends it `done` FAILED. */
  #follow(key: string, ref: OperationRef): EventLog<ParticipantEvent> {
    const log = new EventLog<ParticipantEvent>();
    this.#logs.set(key, log);
    this.#finished.delete(key);
    void (async () => {
      let bytes = 0;
      try {
        for await (const event of this.#participant.events(ref)) {
          bytes = event.bytes;
          log.push(event, event.type === 'done');
          if (event.type === 'done') break;
        }
        if (!log.closed) throw new Error('its events ended without done');
      } catch (error) {
        if (!log.closed) log.push({ type: 'done', outcome: 'FAILED', error: (error as Error).message, bytes }, true);
      }
      if (this.#logs.get(key) !== log) return;
      this.#finished.add(key);
      for (const old of this.#finished) {
        if (this.#finished.size <= KEPT_FINISHED) break;
        this.#finished.delete(old);
        this.#logs.delete(old);
      }
    })();
    return log;
  }
}

/** The names of the participant calls. */
export type ParticipantCall = Extract<PeerCallName, `participant${string}`>;

/** The participant calls, answered by `participant`. */
export function participantHandlers(participant: Participant): Pick<PeerHandlers, ParticipantCall> {
  const events = new EventMirrors(participant);
  return {
    participantPrepare: async (args) => {
      const request = prepareRequest((args as Fields | undefined)?.request);
      const prepared = await participant.prepare(request);
      events.forget(request);
      return prepared;
    },
    participantCommit: async (args) => {
      const ref = operation('participantCommit', args?.operation);
      if ((await participant.status(ref)) === undefined) {
        throw new ParticipantOperationUnknownError(participant.node, ref.kind, ref.id);
      }
      await participant.commit(ref);
      return null;
    },
    participantStatus: async (args) =>
      (await participant.status(operation('participantStatus', args?.operation))) ?? null,
    participantAbort: async (args) => {
      const ref = operation('participantAbort', args?.operation);
      await participant.abort(ref, argString('participantAbort', args?.reason, 'reason'));
      return null;
    },
    participantEvents: (args, signal) => {
      const call = 'participantEvents';
      const ref = operation(call, args?.operation);
      return events.poll(ref, index(call, args?.from, 'from'), index(call, args?.waitMs, 'waitMs'), signal);
    },
  };
}
