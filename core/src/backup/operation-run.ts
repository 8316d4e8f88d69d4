import type { BackupBackend } from '../provider/backend.js';
import type { ModuleLogger } from '../provider/module-definition.js';
import { type BackupStatus, FINISHED } from './descriptors.js';
import { type DescriptorAuthor, type NodePart, writeDescriptor } from './operation-descriptors.js';
import type { OperationState, OperationStore } from './operation-store.js';
import type { OperationRef, Participant, ParticipantEvent, ParticipantPhase } from './participant.js';
import type { Progress } from './progress.js';

/**
 * One operation from the coordinator's side, from its record to its outcome: it follows each
 * participant's events, writes the descriptor as the operation moves on, combines the participants'
 * outcomes (SUCCESS when all succeed; CANCELED when a user canceled it; FAILED with the reason
 * otherwise) and records the outcome: in the operation store first, then in the provider, and only
 * then forgets it. If the provider cannot be written, the store keeps the outcome (status answers
 * it, start-up writes it again).
 */

export interface OperationRunOptions {
  readonly state: OperationState;
  readonly backend: BackupBackend;
  readonly participants: readonly Participant[];
  readonly store: OperationStore;
  readonly author: DescriptorAuthor;
  readonly logger: ModuleLogger;
  /** Frees the coordinator's slot; called once the outcome is recorded. */
  readonly release: () => void;
}

const PHASES: readonly ParticipantPhase[] = ['STARTED', 'TRANSFERRING', 'TRANSFERRED', 'FINALIZING'];

/** A participant's part of the operation, as its events tell it. */
interface Part {
  phase: ParticipantPhase;
  done?: Extract<ParticipantEvent, { type: 'done' }>;
  bytes: number;
}

export class OperationRun {
  readonly #options: OperationRunOptions;
  readonly #ref: OperationRef;
  readonly #parts = new Map<Participant, Part>();
  #state: OperationState;
  #cancel: string | undefined;
  #stop: string | undefined;
  /** Why the coordinator itself failed the operation (a descriptor it could not write). */
  #failure: string | undefined;
  #begun = false;
  #committed = false;
  /** Descriptor writes, one at a time and in order. */
  #writes: Promise<void> = Promise.resolve();
  readonly #done: Promise<void>;
  #settle: () => void = () => {};

  constructor(options: OperationRunOptions) {
    this.#options = options;
    this.#state = options.state;
    const { kind, id, backend, scope } = options.state;
    this.#ref = { kind, id, backend, scope };
    for (const participant of options.participants) this.#parts.set(participant, { phase: 'STARTED', bytes: 0 });
    this.#done = new Promise((resolve) => {
      this.#settle = resolve;
    });
  }

  get state(): OperationState {
    return this.#state;
  }

  get participants(): readonly Participant[] {
    return this.#options.participants;
  }

  /** Records the operation: durable before anything of it is visible in the provider. */
  async begin(): Promise<void> {
    await this.#options.store.put(this.#state);
    this.#begun = true;
  }

  /**
   * Writes the STARTED descriptor and commits every participant, then follows them in the background.
   * Throws only when the descriptor cannot be written; after that, every failure is the outcome.
   */
  async commit(): Promise<void> {
    await writeDescriptor(this.#options.backend, this.#state, this.#options.author);
    this.#committed = true;
    const { logger } = this.#options;
    const { kind, id, backend, classes } = this.#state;
    logger.info({ id, backend, classes }, `${kind} started`);
    void this.#follow();
  }

  /** Undoes an operation whose start failed (nothing of it is in the provider): forgets it, frees the slot. */
  async abandon(): Promise<void> {
    await this.#abortAll('the operation did not start');
    if (this.#begun)
      await this.#options.store.remove(this.#state).catch((error: unknown) => {
        this.#options.logger.error(
          { id: this.#state.id, err: error },
          `could not forget ${this.#state.kind} ${this.#state.id}`,
        );
      });
    this.#options.release();
    this.#settle();
  }

  /** The bytes moved of the total, over every participant. */
  async progress(): Promise<Progress> {
    const statuses = await Promise.all(this.#options.participants.map((p) => p.status(this.#ref)));
    return statuses.reduce<Progress>(
      (sum, status) => ({
        doneBytes: sum.doneBytes + (status?.progress.doneBytes ?? 0),
        totalBytes: sum.totalBytes + (status?.progress.totalBytes ?? 0),
      }),
      { doneBytes: 0, totalBytes: 0 },
    );
  }

  /**
   * Cancels the operation: CANCELLING at once, then recorded (a crash from then on ends it CANCELED),
   * then waits for its outcome. Throws what a participant refusing to stop throws.
   */
  async cancel(reason: string): Promise<void> {
    if (!FINISHED.has(this.#state.status) && this.#cancel === undefined) {
      const before = this.#state;
      this.#cancel = reason;
      this.#state = { ...this.#state, status: 'CANCELLING', cancelRequested: true };
      if (this.#committed) {
        try {
          await Promise.all(this.#options.participants.map((p) => p.abort(this.#ref, reason)));
        } catch (error) {
          this.#cancel = undefined;
          this.#state = before;
          this.#advance();
          throw error;
        }
      }
      await this.#options.store.put(this.#state).catch((error: unknown) => {
        this.#options.logger.error(
          { id: this.#state.id, err: error },
          `could not record the cancel of ${this.#state.id}`,
        );
      });
    }
    await this.#done;
  }

  /** Stops the operation because the node is stopping; it ends FAILED with `reason`. */
  async stop(reason: string): Promise<void> {
    this.#stop = reason;
    if (this.#committed) await this.#abortAll(reason);
    await this.#done;
  }

  /** Follows every participant to its end, then records the outcome. Never rejects. */
  async #follow(): Promise<void> {
    if (this.#cancel !== undefined || this.#stop !== undefined) {
      // Canceled or stopped while its start was in flight: nothing was committed to run.
      await this.#abortAll(this.#cancel ?? this.#stop ?? '');
    } else {
      await Promise.all(
        this.#options.participants.map((participant) =>
          this.#followOne(participant, this.#parts.get(participant) as Part),
        ),
      );
    }
    await this.#writes;
    await this.#record();
  }

  async #followOne(participant: Participant, part: Part): Promise<void> {
    try {
      await participant.commit(this.#ref);
      for await (const event of participant.events(this.#ref)) {
        part.bytes = event.bytes;
        if (event.type === 'done') {
          part.done = event;
          if (event.outcome === 'FAILED')
            void this.#abortAll(`${participant.node} failed: ${event.error}`, participant);
          return;
        }
        part.phase = event.phase;
        this.#advance();
      }
    } catch (error) {
      part.done = { type: 'done', outcome: 'FAILED', error: (error as Error).message, bytes: part.bytes };
      void this.#abortAll(`${participant.node} failed: ${part.done.error}`, participant);
    }
  }

  /**
   * Aborts every participant but `except` (one that failed: the operation cannot succeed any more),
   * and resolves once each has answered; a participant that cannot stop is left to finish.
   */
  async #abortAll(reason: string, except?: Participant): Promise<void> {
    const others = this.#options.participants.filter((participant) => participant !== except);
    await Promise.allSettled(others.map((participant) => participant.abort(this.#ref, reason)));
  }

  /** The bytes of the files the participants move, as far as they reported them. */
  #bytes(): number {
    return [...this.#parts.values()].reduce((sum, part) => sum + part.bytes, 0);
  }

  /** Moves the operation to its participants' least advanced phase, and writes it, unless it is canceling. */
  #advance(): void {
    if (this.#state.status === 'CANCELLING' || this.#failure !== undefined) return;
    const parts = [...this.#parts.values()];
    const phase = PHASES[Math.min(...parts.map((part) => PHASES.indexOf(part.phase)))] as BackupStatus;
    const bytes = this.#bytes();
    if (phase === this.#state.status && bytes === this.#state.preCompressionSizeBytes) return;
    this.#state = { ...this.#state, status: phase, preCompressionSizeBytes: bytes };
    const state = this.#state;
    this.#writes = this.#writes.then(() =>
      writeDescriptor(this.#options.backend, state, this.#options.author, this.#nodeParts(state)).catch(
        (error: unknown) => {
          this.#failure ??= (error as Error).message;
          void this.#abortAll(this.#failure);
        },
      ),
    );
  }

  /**
   * The outcome the participants' ends make: SUCCESS when every one succeeded (even if a cancel or a
   * stop came too late to stop them), else CANCELED or FAILED with the first reason there is.
   */
  #outcome(): { status: BackupStatus; error: string } {
    const parts = [...this.#parts.values()];
    const succeeded = this.#committed && parts.every((part) => part.done?.outcome === 'SUCCESS');
    if (succeeded && this.#failure === undefined) return { status: 'SUCCESS', error: '' };
    if (this.#cancel !== undefined) return { status: 'CANCELED', error: this.#cancel };
    if (this.#stop !== undefined) return { status: 'FAILED', error: this.#stop };
    if (this.#failure !== undefined) return { status: 'FAILED', error: this.#failure };
    const failed = parts.find((part) => part.done?.outcome === 'FAILED') ?? parts.find((part) => part.done);
    return { status: 'FAILED', error: failed?.done?.error ?? 'no participant reported an outcome' };
  }

  #nodeParts(state: OperationState): Map<string, NodePart> {
    const parts = new Map<string, NodePart>();
    for (const [participant, part] of this.#parts) {
      const status: BackupStatus = FINISHED.has(state.status) ? state.status : part.phase;
      parts.set(participant.node, { status, error: state.error, preCompressionSizeBytes: part.bytes });
    }
    return parts;
  }

  /** Records the outcome (store, then provider, then forgets it) and frees the slot. */
  async #record(): Promise<void> {
    const { store, backend, author, logger } = this.#options;
    const outcome = this.#outcome();
    const settled: OperationState = {
      ...this.#state,
      ...outcome,
      completedAt: new Date().toISOString(),
      preCompressionSizeBytes: this.#bytes(),
    };
    const { kind, id } = settled;
    const logError = (message: string) => (error: unknown) => logger.error({ id, err: error }, message);
    // The store first: if the provider cannot be written, the store still holds the outcome.
    await store.put(settled).catch(logError(`could not record the outcome of ${kind} ${id} in the operation store`));
    const recorded = await writeDescriptor(backend, settled, author, this.#nodeParts(settled)).then(
      () => true,
      (error: unknown) => {
        logError(`could not record the outcome of ${kind} ${id}`)(error);
        return false;
      },
    );
    if (recorded) await store.remove(settled).catch(logError(`could not forget ${kind} ${id}`));
    this.#state = settled;
    this.#options.release();
    this.#settle();
    logger.info(
      { id, backend: settled.backend, status: settled.status, error: settled.error || undefined },
      `${kind} ${settled.status}`,
    );
  }
}
