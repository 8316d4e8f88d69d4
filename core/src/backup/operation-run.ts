import { setTimeout as sleep } from 'node:timers/promises';
import { OperationFencedError, ParticipantOperationUnknownError } from '../errors.js';
import type { BackupBackend } from '../provider/backend.js';
import type { ModuleLogger } from '../provider/module-definition.js';
import { deleteBackupObjects, discardPartialWrites } from './backup-cleanup.js';
import { type BackupStatus, FINISHED, type OperationRecord } from './descriptors.js';
import { BackupHome } from './home.js';
import { type DescriptorAuthor, type NodePart, writeDescriptor } from './operation-descriptors.js';
import { endedBecause, type OperationState, type OperationStore, settledOf } from './operation-store.js';
import type { OperationRef, Participant, ParticipantEvent, ParticipantPhase } from './participant.js';
import type { Progress } from './progress.js';
import { readGlobalDescriptor, readRestoreDescriptor } from './read-descriptors.js';

/**
 * One operation from the coordinator's side, from its record to its outcome: it follows each
 * participant's events, writes the descriptor as the operation moves on, combines the participants'
 * outcomes (SUCCESS when all succeed; CANCELED when a user canceled it; FAILED with the reason
 * otherwise) and records the outcome: in the operation store first, then in the provider, and only
 * then forgets it. If the provider cannot be written, the store keeps the outcome (status answers
 * it, start-up writes it again). A backup that did not succeed has what its participants wrote
 * deleted, so a participant that died mid-upload leaves no chunk behind.
 *
 * Every change is put in the store before the provider sees it. In a cluster the store fences each
 * put on this node's claim: a put refused (OperationFencedError) means another node coordinates the
 * operation now, and the run stops at once, writing and aborting nothing, so the successor's outcome
 * stands. A run can also start from a recorded state ({@link OperationRun.resume}): the adoption of
 * an operation whose coordinator died.
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
  /**
   * A restore's last step once every participant succeeded, before it is SUCCESS: a cluster creates
   * the restored classes in its schema here. Throws the reason the restore fails.
   */
  readonly finalize?: (state: OperationState) => Promise<void>;
  /**
   * How long to wait between tries of a put the store failed (etcd unreachable): the outcome is
   * put until the store takes it or refuses it as fenced. Without it, a failed put of the outcome is
   * logged and the provider written all the same (a single node's file).
   */
  readonly retryStoreMs?: number;
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
  /** Why the coordinator itself failed the operation (a descriptor it could not write, a finalize). */
  #failure: string | undefined;
  /** Another node coordinates the operation now: this run writes nothing more. */
  #fenced = false;
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
    // An adopted operation's bytes start as its first coordinator recorded them.
    // and its phase as recorded (every part had reached it), so the status never steps back.
    const phase = PHASES.find((p) => p === options.state.status) ?? 'STARTED';
    for (const participant of options.participants) {
      this.#parts.set(participant, { phase, bytes: options.state.nodeBytes?.[participant.node] ?? 0 });
    }
    this.#done = new Promise((resolve) => {
      this.#settle = resolve;
    });
  }

  get state(): OperationState {
    return this.#state;
  }

  /** The outcome of this run (same startedAt) the provider holds already, if it does; undefined when unreadable. */
  async #providerOutcome(): Promise<OperationRecord | undefined> {
    const { backend } = this.#options;
    const { kind, id, scope, startedAt } = this.#state;
    const read = kind === 'backup' ? readGlobalDescriptor : readRestoreDescriptor;
    const current = await read(backend, id, scope).catch(() => undefined);
    return current !== undefined && current.startedAt === startedAt && FINISHED.has(current.status)
      ? current
      : undefined;
  }

  /** Resolves once the run is over: its outcome recorded (or the operation handed over) and the slot free. */
  get finished(): Promise<void> {
    return this.#done;
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
    // Recorded (fenced) before the provider sees it: a coordinator that lost the operation while its
    // participants prepared must not write STARTED over what its successor wrote.
    this.#state = { ...this.#state, committed: true };
    await this.#options.store.put(this.#state);
    await writeDescriptor(this.#options.backend, this.#state, this.#options.author);
    this.#committed = true;
    const { logger } = this.#options;
    const { kind, id, backend, classes } = this.#state;
    logger.info({ id, backend, classes }, `${kind} started`);
    void this.#follow();
  }

  /**
   * Takes over a recorded operation whose coordinator died, in the background: one committed is
   * followed to its end (every participant still going is committed again, which does nothing to one
   * already running, and its events read from the first); one not committed is ended FAILED, its
   * participants aborted; one already finished has its outcome written to the provider.
   */
  resume(previous: string): void {
    const { kind, id, backend } = this.#state;
    this.#options.logger.warn({ id, backend, previous }, `adopted ${kind} ${id} from node ${previous}`);
    this.#begun = true;
    void this.#resumeFrom(previous);
  }

  async #resumeFrom(previous: string): Promise<void> {
    const { kind } = this.#state;
    // An outcome its coordinator decided stands.
    this.#state = settledOf(this.#state);
    const written = FINISHED.has(this.#state.status) ? undefined : await this.#providerOutcome();
    if (written !== undefined) {
      // Its coordinator wrote the outcome to the provider and died before the store forgot it.
      const { status, error, completedAt, preCompressionSizeBytes } = written;
      this.#state = { ...this.#state, status, error, completedAt, preCompressionSizeBytes };
      if (!(await this.#durably(this.#state, 'forget', () => this.#options.store.remove(this.#state)))) return;
      this.#options.release();
      this.#settle();
      return;
    }
    if (FINISHED.has(this.#state.status)) {
      void this.#record();
      return;
    }
    if (this.#state.cancelRequested === true) this.#cancel = endedBecause.canceled(kind);
    if (this.#state.committed !== true) {
      if (this.#cancel === undefined) this.#failure = endedBecause.uncommitted(kind, previous);
      void this.#abortAll(this.#cancel ?? this.#failure ?? '').then(() => this.#record());
      return;
    }
    this.#committed = true;
    void this.#follow();
  }

  /**
   * Undoes an operation whose start failed (nothing of it is in the provider): drops what `prepared`
   * hold of it, forgets it, frees the slot.
   */
  async abandon(prepared: readonly Participant[]): Promise<void> {
    // Only those this run prepared: another coordinator's run of the same key may be what refused it.
    await Promise.allSettled(
      prepared.map((participant) => participant.abort(this.#ref, 'the operation did not start')),
    );
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
    // A participant that does not answer (a node down) counts nothing: its events end its part.
    const statuses = await Promise.allSettled(this.#options.participants.map((p) => p.status(this.#ref)));
    return statuses.reduce<Progress>(
      (sum, settled) => {
        const status = settled.status === 'fulfilled' ? settled.value : undefined;
        return {
          doneBytes: sum.doneBytes + (status?.progress.doneBytes ?? 0),
          totalBytes: sum.totalBytes + (status?.progress.totalBytes ?? 0),
        };
      },
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
      // Recorded first, so a coordinator that lost the operation to another node aborts nothing.
      await this.#options.store.put(this.#state).catch((error: unknown) => {
        if (this.#fence(error)) throw error;
        this.#options.logger.error(
          { id: this.#state.id, err: error },
          `could not record the cancel of ${this.#state.id}`,
        );
      });
      if (this.#committed) {
        try {
          await Promise.all(this.#options.participants.map((p) => p.abort(this.#ref, reason)));
        } catch (error) {
          this.#cancel = undefined;
          this.#state = before;
          this.#advance(true);
          throw error;
        }
      }
    }
    await this.#done;
  }

  /** Stops the operation because the node is stopping; it ends FAILED with `reason`. */
  async stop(reason: string): Promise<void> {
    this.#stop = reason;
    if (this.#committed) await this.#abortAll(reason);
    await this.#done;
  }

  /**
   * Stops following the operation without settling it: the node leaves its cluster, whose lease
   * goes with it, and another node adopts the operation and follows its participants to the end.
   */
  handOver(): void {
    if (this.#fenced) return;
    this.#fenced = true;
    this.#options.logger.info({ id: this.#state.id }, `${this.#state.kind} ${this.#state.id} left to another node`);
    this.#options.release();
    this.#settle();
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
    await this.#finalize();
    await this.#record();
  }

  /** A restore's last step, once every participant succeeded; a failure fails the restore and releases what they hold. */
  async #finalize(): Promise<void> {
    const { finalize } = this.#options;
    const succeeded = [...this.#parts.values()].every((part) => part.done?.outcome === 'SUCCESS');
    if (finalize === undefined || !succeeded || this.#failure !== undefined || this.#fenced) return;
    try {
      // A participant that restarted since it finished has lost what it held: its shards would open empty.
      for (const participant of this.#options.participants) {
        if ((await participant.status(this.#ref)) === undefined) {
          throw new ParticipantOperationUnknownError(participant.node, this.#ref.kind, this.#ref.id);
        }
      }
      await finalize(this.#state);
    } catch (error) {
      this.#failure = (error as Error).message;
      await this.#abortAll(this.#failure);
    }
  }

  async #followOne(participant: Participant, part: Part): Promise<void> {
    try {
      await participant.commit(this.#ref);
      for await (const event of participant.events(this.#ref)) {
        part.bytes = event.bytes;
        if (event.type === 'done') {
          part.done = event;
          if (event.outcome === 'FAILED') this.#failed(participant, event.error);
          return;
        }
        part.phase = event.phase;
        this.#advance();
      }
    } catch (error) {
      part.done = { type: 'done', outcome: 'FAILED', error: (error as Error).message, bytes: part.bytes };
      this.#failed(participant, part.done.error);
    }
  }

  /**
   * One participant failed: the operation cannot succeed, so the others are aborted, once a put shows
   * this node still coordinates it (a stalled coordinator whose polls timed out must not abort the
   * participants its successor follows).
   */
  #failed(participant: Participant, error: string): void {
    this.#writes = this.#writes.then(async () => {
      // Unreachable: this node cannot tell whether it still coordinates, so it aborts nothing (the
      // others finish their part for nothing; the outcome is FAILED all the same).
      const why = `${participant.node} failed; not aborting the others while the operation store does not answer`;
      if (await this.#stillOurs(this.#state, why))
        void this.#abortAll(`${participant.node} failed: ${error}`, participant);
    });
  }

  /**
   * Puts `state`: true when the store took it, so this node still coordinates the operation. False when
   * it was fenced (the run handed over) or did not answer (logged with `unanswered`), or the run is
   * handed over already.
   */
  async #stillOurs(state: OperationState, unanswered: string): Promise<boolean> {
    if (this.#fenced) return false;
    try {
      await this.#options.store.put(state);
      return true;
    } catch (error) {
      if (!this.#fence(error)) this.#options.logger.warn({ id: state.id, err: error }, unanswered);
      return false;
    }
  }

  /** True, and the run stopped, when `error` is the store's refusal: another node coordinates it now. */
  #fence(error: unknown): boolean {
    if (!OperationFencedError.is(error)) return false;
    if (!this.#fenced) {
      this.#options.logger.warn(
        { id: this.#state.id, err: error },
        `${this.#state.kind} ${this.#state.id}: ${(error as Error).message}`,
      );
      this.handOver();
    }
    return true;
  }

  /**
   * Aborts every participant but `except` (one that failed: the operation cannot succeed any more),
   * and resolves once each has answered; a participant that cannot stop is left to finish.
   */
  async #abortAll(reason: string, except?: Participant): Promise<void> {
    const others = this.#options.participants.filter((participant) => participant !== except);
    await Promise.allSettled(others.map((participant) => participant.abort(this.#ref, reason)));
  }

  /** Each participant's bytes, by node, as the state records them. */
  #nodeBytes(): Record<string, number> {
    return Object.fromEntries([...this.#parts].map(([participant, part]) => [participant.node, part.bytes]));
  }

  /** The bytes of the files the participants move, as far as they reported them. */
  #bytes(): number {
    return [...this.#parts.values()].reduce((sum, part) => sum + part.bytes, 0);
  }

  /**
   * Moves the operation to its participants' least advanced phase, and writes it (store, then
   * provider), unless it is canceling. `force` writes it even when the phase is unchanged.
   */
  #advance(force = false): void {
    if (this.#state.status === 'CANCELLING' || this.#failure !== undefined || this.#fenced) return;
    const parts = [...this.#parts.values()];
    const phase = PHASES[Math.min(...parts.map((part) => PHASES.indexOf(part.phase)))] as BackupStatus;
    const bytes = this.#bytes();
    if (!force && phase === this.#state.status && bytes === this.#state.preCompressionSizeBytes) return;
    this.#state = { ...this.#state, status: phase, preCompressionSizeBytes: bytes, nodeBytes: this.#nodeBytes() };
    const state = this.#state;
    this.#writes = this.#writes.then(async () => {
      // Unreachable (etcd down): the provider waits for the next phase, the participants go on.
      if (!(await this.#stillOurs(state, `could not record ${state.kind} ${state.id} ${phase}`))) return;
      await writeDescriptor(this.#options.backend, state, this.#options.author, this.#nodeParts(state)).catch(
        (error: unknown) => {
          this.#failure ??= (error as Error).message;
          void this.#abortAll(this.#failure);
        },
      );
    });
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

  /**
   * Has the store take the outcome's `change` (its put, then its remove): once, logging a failure, for
   * a store of one node (its next start settles what is left); with {@link
   * OperationRunOptions.retryStoreMs}, until the store takes it, as what a cluster's store keeps under
   * this node's live claim no other node would settle. False when it was fenced (the run stopped).
   */
  async #durably(settled: OperationState, what: string, change: () => Promise<void>): Promise<boolean> {
    const { logger, retryStoreMs } = this.#options;
    for (let tries = 1; ; tries++) {
      try {
        await change();
        return true;
      } catch (error) {
        if (this.#fence(error)) return false;
        const message = `could not ${what} ${settled.kind} ${settled.id} in the operation store`;
        if (retryStoreMs === undefined) {
          logger.error({ id: settled.id, err: error }, message);
          return true;
        }
        if (tries % 10 === 1) logger.warn({ id: settled.id, err: error, tries }, `${message}; trying again`);
        await sleep(retryStoreMs);
      }
    }
  }

  /** Deletes what the participants of a backup that did not succeed wrote (a dead one could not). */
  async #clean(state: OperationState): Promise<void> {
    const home = new BackupHome(state.id);
    const nodes = Object.fromEntries(
      state.nodes.map((node) => [node, { classes: state.nodeClasses?.[node] ?? state.classes }]),
    );
    await deleteBackupObjects(this.#options.backend, home, nodes, state.scope);
    await discardPartialWrites(this.#options.backend, home, state.scope, this.#options.logger);
  }

  #nodeParts(state: OperationState): Map<string, NodePart> {
    const parts = new Map<string, NodePart>();
    for (const [participant, part] of this.#parts) {
      const status: BackupStatus = FINISHED.has(state.status) ? state.status : part.phase;
      parts.set(participant.node, { status, error: state.error, preCompressionSizeBytes: part.bytes });
    }
    return parts;
  }

  /**
   * Records the outcome (store, then what a failed backup wrote deleted, then provider, then forgets
   * it) and frees the slot. An outcome recorded already (an adopted finished one) is written again.
   */
  async #record(): Promise<void> {
    if (this.#fenced) return;
    const { store, backend, author, logger } = this.#options;
    const settled: OperationState = FINISHED.has(this.#state.status)
      ? this.#state
      : {
          ...this.#state,
          ...this.#outcome(),
          completedAt: new Date().toISOString(),
          preCompressionSizeBytes: this.#bytes(),
          nodeBytes: this.#nodeBytes(),
        };
    const { kind, id } = settled;
    const logError = (message: string) => (error: unknown) => logger.error({ id, err: error }, message);
    // The outcome decided goes to the store first (a crash from here on settles with it), beside the
    // phase the provider still has, which every node answers until the provider has the outcome. The
    // put is fenced: a coordinator that lost the operation deletes and writes nothing.
    const { status, error, completedAt } = settled;
    const deciding = FINISHED.has(this.#state.status)
      ? settled
      : { ...settled, status: this.#state.status, error: this.#state.error, outcome: { status, error, completedAt } };
    if (!(await this.#durably(settled, 'record the outcome of', () => store.put(deciding)))) return;
    if (kind === 'backup' && settled.status !== 'SUCCESS') {
      await this.#clean(settled).catch(logError(`could not delete what ${kind} ${id} wrote`));
    }
    const recorded = await writeDescriptor(backend, settled, author, this.#nodeParts(settled)).then(
      () => true,
      (error: unknown) => {
        logError(`could not record the outcome of ${kind} ${id}`)(error);
        return false;
      },
    );
    // Forgotten once in the provider; else kept as the outcome, answered from the store and written
    // again later (the node's next start, or the node that adopts it).
    const kept = recorded
      ? await this.#durably(settled, 'forget', () => store.remove(settled))
      : await this.#durably(settled, 'record the outcome of', () => store.put(settled));
    if (!kept) return;
    // Answered from now on, as every other node answers it from now on: the store holds nothing of
    // the run any more (or its outcome), so they read the provider's.
    this.#state = settled;
    this.#options.release();
    this.#settle();
    logger.info(
      { id, backend: settled.backend, status: settled.status, error: settled.error || undefined },
      `${kind} ${settled.status}`,
    );
  }
}
