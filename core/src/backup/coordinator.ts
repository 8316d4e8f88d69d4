import {
  BackupAccessError,
  BackupCorruptError,
  BackupExistsError,
  BackupInProgressError,
  BackupNotRestorableError,
  BackupVersionError,
  RestoreFinalizingError,
  RestoreNodeError,
} from '../errors.js';
import type { BackupBackend } from '../provider/backend.js';
import type { ModuleLogger } from '../provider/module-definition.js';
import { deleteBackupObjects } from './backup-cleanup.js';
import { BACKUP_FORMAT_VERSION, ZERO_TIME } from './descriptors.js';
import { BackupHome } from './home.js';
import type { DescriptorAuthor } from './operation-descriptors.js';
import { OperationRun } from './operation-run.js';
import { endedBecause, type OperationState, type OperationStore, operationKey } from './operation-store.js';
import type { OperationRef, Participant, Prepared } from './participant.js';
import type { Progress } from './progress.js';
import { missingDescriptor, readGlobalDescriptor } from './read-descriptors.js';
import type { BackupPlan, RestorePlan, Target } from './requests.js';

/**
 * The coordinator: owns one backup or restore at a time. It records the operation in the operation
 * store before anything of it reaches the provider, writes the global (or restore) descriptor, has
 * its participants prepare and commit, follows their events (operation-run.ts), and settles the
 * outcome. It reaches participants only through the participant contract (participant.ts), so none
 * of this assumes they share its process.
 */

export interface CoordinatorOptions {
  readonly store: OperationStore;
  /** The participants for the nodes an operation spans. */
  readonly participants: (nodes: readonly string[]) => readonly Participant[];
  /** The nodes of the cluster: this one alone, on a single node. */
  readonly nodes: () => readonly string[];
  readonly author: DescriptorAuthor;
  readonly logger: ModuleLogger;
  /** How long stopping waits for the running operation to end (default {@link STOP_GRACE_MS}). */
  readonly stopGraceMs?: number;
}

/**
 * How long a node that stops waits for its running operation to end. A participant stuck in a call
 * its provider never answers must not keep the node from stopping: the operation stays recorded, and
 * the next start settles it (FAILED, "node restarted during ...").
 */
export const STOP_GRACE_MS = 10_000;

/** A running operation's status, with its progress. */
export interface LiveStatus {
  readonly state: OperationState;
  readonly progress: Progress;
}

const refOf = (target: Target, kind: OperationRef['kind']): OperationRef => ({
  kind,
  id: target.id,
  backend: target.module.name,
  scope: target.scope,
});

export class Coordinator {
  readonly #options: CoordinatorOptions;
  #running: OperationRun | undefined;

  constructor(options: CoordinatorOptions) {
    this.#options = options;
  }

  /** Starts a backup; resolves once it is recorded and its participants committed. */
  async backup(plan: BackupPlan): Promise<void> {
    const { backend, id, scope, home } = plan;
    const nodes = this.#options.nodes();
    const state = this.#state(plan, 'backup', nodes, plan.classes, plan.compression);
    const run = this.#reserve(state, backend, this.#options.participants(nodes));
    try {
      // First, so a missing bucket or refused credentials are reported as such, not as a failed read.
      try {
        await backend.checkAccess({ scope });
      } catch (error) {
        throw new BackupAccessError((error as Error).message).withCause(error);
      }
      const existing = await readGlobalDescriptor(backend, id, scope).catch((error: unknown) => {
        // A damaged descriptor is still a backup someone may want: never overwritten.
        throw BackupCorruptError.is(error) ? new BackupExistsError(id, home).withCause(error) : error;
      });
      if (existing !== undefined && existing.status !== 'CANCELED') throw new BackupExistsError(id, home);
      await run.begin();
      if (existing !== undefined) await deleteBackupObjects(backend, new BackupHome(id), existing.nodes, scope);
      for (const participant of run.participants) {
        await participant.prepare({
          ...refOf(plan, 'backup'),
          kind: 'backup',
          classes: plan.classes,
          compression: plan.compression,
          concurrency: plan.concurrency,
          startedAt: state.startedAt,
        });
      }
      await run.commit();
    } catch (error) {
      await run.abandon();
      throw error;
    }
  }

  /**
   * Starts a restore; resolves with its classes once every check passed, it is recorded and its
   * participants committed.
   */
  async restore(plan: RestorePlan): Promise<readonly string[]> {
    const { backend, id, scope, home } = plan;
    // The running backup's own status is fresher than what its descriptor says.
    const backup = this.#find('backup', plan);
    if (backup !== undefined) throw new BackupNotRestorableError(id, backup.state.status);
    const global = await readGlobalDescriptor(backend, id, scope);
    if (global === undefined) throw missingDescriptor('backup', id, home);
    if (global.status !== 'SUCCESS') throw new BackupNotRestorableError(id, global.status);
    if (Number.parseInt(global.version, 10) > Number.parseInt(BACKUP_FORMAT_VERSION, 10)) {
      throw new BackupVersionError(global.version, BACKUP_FORMAT_VERSION);
    }
    const nodes = this.#options.nodes();
    const backupNodes = Object.keys(global.nodes);
    if (backupNodes.length !== nodes.length) {
      throw new BackupCorruptError(
        new BackupHome(id).globalKey,
        `expected ${nodes.length === 1 ? 'one node' : `${nodes.length} nodes`}, found ${backupNodes.length}`,
      );
    }
    // Each node of the backup, mapped, must be a node here; the participant of each restores its part.
    const targets = backupNodes.map((node) => plan.nodeMapping[node] ?? node);
    for (const [i, node] of backupNodes.entries()) {
      if (!nodes.includes(targets[i] as string)) throw new RestoreNodeError(node, nodes[0] as string);
    }
    const participants = this.#options.participants(targets);
    const ref = refOf(plan, 'restore');
    const prepared = new Map<Participant, Prepared>();
    let run: OperationRun;
    try {
      for (const participant of participants) {
        const backupNode = backupNodes[targets.indexOf(participant.node)] as string;
        prepared.set(
          participant,
          await participant.prepare({
            ...ref,
            kind: 'restore',
            backupNode,
            include: plan.include,
            exclude: plan.exclude,
            concurrency: plan.concurrency,
          }),
        );
      }
      const parts = [...prepared.values()];
      const state = {
        ...this.#state(plan, 'restore', targets, (parts[0] as Prepared).classes, 'DefaultCompression'),
        attaches: parts.flatMap((part) => part.attaches ?? []),
      };
      run = this.#reserve(state, backend, participants);
    } catch (error) {
      // Only those that prepared: another operation of the same key may be what refused the rest.
      await Promise.allSettled([...prepared.keys()].map((participant) => participant.abort(ref, 'restore refused')));
      throw error;
    }
    try {
      await run.begin();
      await run.commit();
    } catch (error) {
      await run.abandon();
      throw error;
    }
    return run.state.classes;
  }

  /** The running operation's status, when it is the one `target` names. */
  async live(kind: OperationRef['kind'], target: Target): Promise<LiveStatus | undefined> {
    const run = this.#find(kind, target);
    return run === undefined ? undefined : { state: run.state, progress: await run.progress() };
  }

  /**
   * Cancels the running operation `target` names: CANCELLING at once (recorded, so a crash ends it
   * CANCELED), then resolves with the outcome once it is recorded. Resolves undefined when it is not
   * the running one.
   * @throws RestoreFinalizingError when a restore is already attaching its classes.
   */
  async cancel(kind: OperationRef['kind'], target: Target): Promise<OperationState | undefined> {
    const run = this.#find(kind, target);
    if (run === undefined) return undefined;
    if (run.state.status === 'FINALIZING') throw new RestoreFinalizingError(target.id);
    await run.cancel(endedBecause.canceled(kind));
    return run.state;
  }

  /**
   * Stops the running operation (it ends FAILED: "node stopped during ..."), and waits for it, for at
   * most the stop grace; past it, the operation is left to the next start's recovery.
   */
  async close(): Promise<void> {
    const run = this.#running;
    if (run === undefined) return;
    const { kind, id } = run.state;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(resolve, this.#options.stopGraceMs ?? STOP_GRACE_MS, 'late');
    });
    const ended = await Promise.race([run.stop(endedBecause.stopped(kind)).then(() => 'stopped' as const), late]);
    clearTimeout(timer);
    if (ended === 'late') {
      this.#options.logger.warn(
        { id, kind },
        `${kind} ${id} did not stop within ${this.#options.stopGraceMs ?? STOP_GRACE_MS} ms (a provider call that never returns?); ` +
          'it stays recorded and the next start settles it',
      );
    }
  }

  #find(kind: OperationRef['kind'], target: Target): OperationRun | undefined {
    const run = this.#running;
    const key = operationKey({ kind, backend: target.module.name, id: target.id, scope: target.scope });
    return run !== undefined && operationKey(run.state) === key ? run : undefined;
  }

  #state(
    target: Target,
    kind: OperationState['kind'],
    nodes: readonly string[],
    classes: readonly string[],
    compression: OperationState['compression'],
  ): OperationState {
    return {
      kind,
      id: target.id,
      backend: target.module.name,
      backendNames: [target.module.name, ...target.module.altNames],
      scope: target.scope,
      home: target.home,
      startedAt: new Date().toISOString(),
      classes,
      nodes,
      compression,
      status: 'STARTED',
      error: '',
      completedAt: ZERO_TIME,
      preCompressionSizeBytes: 0,
    };
  }

  /** Takes the one slot for `state`. @throws BackupInProgressError while another operation holds it. */
  #reserve(state: OperationState, backend: BackupBackend, participants: readonly Participant[]): OperationRun {
    const running = this.#running?.state;
    if (running !== undefined) throw new BackupInProgressError(running.kind, running.id);
    const run = new OperationRun({
      state,
      backend,
      participants,
      store: this.#options.store,
      author: this.#options.author,
      logger: this.#options.logger,
      release: () => {
        if (this.#running === run) this.#running = undefined;
      },
    });
    this.#running = run;
    return run;
  }
}
