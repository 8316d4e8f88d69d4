/**
 * A backup participant on another node, over the internal API: the coordinator's calls go to that
 * node as the participant calls of peer-calls.ts, its errors come back as their own classes, and its
 * events arrive by long poll, each as soon as the node has it. A node that stops answering ends its
 * part with a `done` FAILED that names it, so a coordinator never waits on it forever.
 */
import type {
  OperationRef,
  Participant,
  ParticipantEvent,
  ParticipantStatus,
  PrepareBackup,
  Prepared,
  PrepareRestore,
} from '../backup/participant.js';
import { NodeUnavailableError, ParticipantOperationUnknownError } from '../errors.js';
import type { NodeCalls } from './node-calls.js';
import { MAX_EVENTS_WAIT_MS } from './peer-calls.js';

/**
 * How long {@link RemoteParticipant.events} goes on polling a node that does not answer before it
 * ends the node's part FAILED: 15 s since its last answer (or {@link MAX_FAILED_POLLS} failed polls in
 * a row, whichever comes first). An operation lives in its node's memory, so a node that restarted
 * has lost it, and waiting longer only delays the outcome; 15 s is also how long a poll of a frozen
 * node takes to time out (peer-client.ts EVENTS_CALL_TIMEOUT_MS), so one such poll is enough.
 */
export const UNREACHABLE_MS = 15_000;

/**
 * Polls that may fail in a row before the node's part ends FAILED. More than one: a keep-alive
 * connection the node closed meanwhile fails a single call, and the next one connects afresh.
 */
export const MAX_FAILED_POLLS = 3;

/** The pause after a failed poll before the next, so a node that refuses is asked again, not hammered. */
export const RETRY_POLL_MS = 1_000;

/** What a RemoteParticipant calls its node through: NodeCalls, or anything that calls a node by name as it does. */
export type ParticipantCaller = Pick<NodeCalls, 'call'>;

/** Bounds of {@link RemoteParticipant.events}, shortened by tests. */
export interface RemoteParticipantOptions {
  /** How long each poll asks the node to wait for an event; default {@link MAX_EVENTS_WAIT_MS}. */
  readonly pollWaitMs?: number;
  /** Default {@link UNREACHABLE_MS}. */
  readonly unreachableMs?: number;
  /** Default {@link MAX_FAILED_POLLS}. */
  readonly maxFailedPolls?: number;
  /** Default {@link RETRY_POLL_MS}. */
  readonly retryPollMs?: number;
}

type Done = Extract<ParticipantEvent, { type: 'done' }>;

const isPage = (value: unknown, from: number): value is { events: ParticipantEvent[]; next: number } => {
  const page = value as { events?: unknown; next?: unknown } | null;
  return (
    typeof page === 'object' && page !== null && Array.isArray(page.events) && page.next === from + page.events.length
  );
};

/** The participant of node `node`, reached through `calls`. */
export class RemoteParticipant implements Participant {
  readonly node: string;
  readonly #calls: ParticipantCaller;
  readonly #pollWaitMs: number;
  readonly #unreachableMs: number;
  readonly #maxFailedPolls: number;
  readonly #retryPollMs: number;

  constructor(node: string, calls: ParticipantCaller, options: RemoteParticipantOptions = {}) {
    this.node = node;
    this.#calls = calls;
    this.#pollWaitMs = options.pollWaitMs ?? MAX_EVENTS_WAIT_MS;
    this.#unreachableMs = options.unreachableMs ?? UNREACHABLE_MS;
    this.#maxFailedPolls = options.maxFailedPolls ?? MAX_FAILED_POLLS;
    this.#retryPollMs = options.retryPollMs ?? RETRY_POLL_MS;
  }

  /** @throws what the node's participant throws (RestoreConflictError, ...), or NodeUnavailableError */
  prepare(request: PrepareBackup | PrepareRestore): Promise<Prepared> {
    return this.#calls.call(this.node, 'participantPrepare', { request });
  }

  /** @throws ParticipantOperationUnknownError when the node holds no such prepared operation; NodeUnavailableError */
  async commit(operation: OperationRef): Promise<void> {
    await this.#calls.call(this.node, 'participantCommit', { operation });
  }

  /** @throws NodeUnavailableError when the node does not answer */
  async status(operation: OperationRef): Promise<ParticipantStatus | undefined> {
    return (await this.#calls.call(this.node, 'participantStatus', { operation })) ?? undefined;
  }

  /** @throws what the node's participant throws (RestoreFinalizingError), or NodeUnavailableError */
  async abort(operation: OperationRef, reason: string): Promise<void> {
    await this.#calls.call(this.node, 'participantAbort', { operation, reason });
  }

  /**
   * Every event of the operation from its first, in order, ending after `done`: polled from the node,
   * each poll from the index after the last event it answered. Never throws: a node that does not
   * answer for {@link UNREACHABLE_MS} (or {@link MAX_FAILED_POLLS} polls in a row) ends it with `done`
   * FAILED, `node <name> is unavailable: <reason>`; a node that answers an error (one that does not
   * hold the operation: ParticipantOperationUnknownError) ends it at once with `done` FAILED and that
   * error's message.
   */
  async *events(operation: OperationRef): AsyncGenerator<ParticipantEvent> {
    let from = 0;
    let bytes = 0;
    let failed = 0;
    let answered = Date.now();
    const failure = (error: string): Done => ({ type: 'done', outcome: 'FAILED', error, bytes });
    for (;;) {
      let page: unknown;
      try {
        page = await this.#calls.call(this.node, 'participantEvents', { operation, from, waitMs: this.#pollWaitMs });
      } catch (error) {
        if (!(error instanceof NodeUnavailableError)) {
          yield failure(this.#answeredError(error));
          return;
        }
        failed += 1;
        if (failed >= this.#maxFailedPolls || Date.now() - answered >= this.#unreachableMs) {
          yield failure(`node ${this.node} is unavailable: ${error.reason}`);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, this.#retryPollMs));
        continue;
      }
      if (!isPage(page, from)) {
        yield failure(
          `node ${this.node} is unavailable: it answered participantEvents with what is not a page of events`,
        );
        return;
      }
      failed = 0;
      answered = Date.now();
      for (const event of page.events) {
        bytes = event.bytes;
        yield event;
        if (event.type === 'done') return;
      }
      from = page.next;
    }
  }

  /** An error the node answered a poll with, as the `done` it ends with says it. */
  #answeredError(error: unknown): string {
    const message = error instanceof Error ? error.message : String(error);
    return ParticipantOperationUnknownError.is(error) ? message : `node ${this.node}: ${message}`;
  }
}
