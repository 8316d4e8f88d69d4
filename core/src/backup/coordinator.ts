import {
  BackupAccessError,
  BackupCorruptError,
  BackupExistsError,
  BackupInProgressError,
  BackupNotRestorableError,
  BackupVersionError,
  RestoreFinalizingError,
  RestoreMappingError,
  RestoreNodeError,
  RestoreNodeNotLiveError,
} from '../errors.js';
import type { BackupBackend } from '../provider/backend.js';
import type { ModuleLogger } from '../provider/module-definition.js';
import { deleteBackupObjects } from './backup-cleanup.js';
import { selectClasses } from './class-selection.js';
import { BACKUP_FORMAT_VERSION, FINISHED, formatMajor, type GlobalDescriptor, ZERO_TIME } from './descriptors.js';
import { BackupHome } from './home.js';
import type { DescriptorAuthor } from './operation-descriptors.js';
import { OperationRun } from './operation-run.js';
import {
  endedBecause,
  type ListedOperation,
  type OperationState,
  type OperationStore,
  operationKey,
  settledOf,
} from './operation-store.js';
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
  /** The nodes of the cluster: this one alone, on a single node; the live members of a cluster. */
  readonly nodes: () => readonly string[];
  readonly author: DescriptorAuthor;
  readonly logger: ModuleLogger;
  /** How long stopping waits for the running operation to end (default {@link STOP_GRACE_MS}). */
  readonly stopGraceMs?: number;
  /**
   * The coordinator of a cluster's operations: a restore ends by `finalize` (its classes created in
   * the cluster's schema), a failed put of an outcome is tried again every `retryStoreMs` (etcd
   * down), and a node that stops hands its operation over to another node instead of failing it.
   */
  readonly cluster?: {
    readonly finalize: (state: OperationState) => Promise<void>;
    readonly retryStoreMs: number;
  };
}

/**
 * How long a node that stops waits for its running operation to end. A participant stuck in a call
 * its provider never answers must not keep the node from stopping: the operation stays recorded, and
 * the next start settles it (FAILED, "node restarted during ...").
 */
export const STOP_GRACE_MS = 10_000;

/** How long a new operation waits for the last one to finish writing an outcome it already answers. */
const SETTLING_WAIT_MS = 10_000;

/** A running operation's status, with its progress. */
export interface LiveStatus {
  readonly state: OperationState;
  readonly progress: Progress;
}

type GlobalNodes = GlobalDescriptor['nodes'];

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

  /**
   * Starts a backup; resolves once it is recorded and its participants committed. `nodeClasses`: the
   * classes each node holds shards of (a cluster's); without it, this node takes every class.
   */
  async backup(plan: BackupPlan, nodeClasses?: Readonly<Record<string, readonly string[]>>): Promise<void> {
    await this.#settling();
    const { backend, id, scope, home } = plan;
    const nodes = nodeClasses === undefined ? this.#options.nodes() : Object.keys(nodeClasses);
    const state: OperationState = {
      ...this.#state(plan, 'backup', nodes, plan.classes, plan.compression),
      ...(nodeClasses === undefined ? {} : { nodeClasses }),
    };
    const run = this.#reserve(state, backend, this.#options.participants(nodes));
    const prepared: Participant[] = [];
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
          classes: nodeClasses?.[participant.node] ?? plan.classes,
          compression: plan.compression,
          concurrency: plan.concurrency,
          startedAt: state.startedAt,
        });
        prepared.push(participant);
      }
      await run.commit();
    } catch (error) {
      await run.abandon(prepared);
      throw error;
    }
  }

  /**
   * Starts a restore; resolves with its classes once every check passed, it is recorded and its
   * participants committed.
   */
  async restore(plan: RestorePlan): Promise<readonly string[]> {
    const { backend, id, scope, home } = plan;
    await this.#settling();
    // The running backup's own status is fresher than what its descriptor says.
    const backup = this.#find('backup', plan);
    if (backup !== undefined) throw new BackupNotRestorableError(id, backup.state.status);
    const global = await readGlobalDescriptor(backend, id, scope);
    if (global === undefined) throw missingDescriptor('backup', id, home);
    // A SUCCESS the store holds is the backup's outcome while its descriptor is being written (on a
    // cluster, by another node): the descriptor then still says the phase before.
    const key = operationKey({ kind: 'backup', backend: plan.module.name, id, scope });
    const listed = (await this.#options.store.list()).find((state) => operationKey(state) === key);
    const recorded = listed === undefined ? undefined : settledOf(listed);
    const succeeded = recorded?.status === 'SUCCESS' && recorded.startedAt === global.startedAt;
    if (global.status !== 'SUCCESS' && !succeeded) throw new BackupNotRestorableError(id, global.status);
    if (formatMajor(global.version) > formatMajor(BACKUP_FORMAT_VERSION)) {
      throw new BackupVersionError(global.version, BACKUP_FORMAT_VERSION);
    }
    const sources = this.#sources(plan, global.nodes);
    const participants = this.#options.participants(sources.map((source) => source.target));
    const ref = refOf(plan, 'restore');
    const prepared = new Map<Participant, Prepared>();
    let run: OperationRun;
    try {
      for (const [i, participant] of participants.entries()) {
        const { backupNode, classes } = sources[i] as (typeof sources)[number];
        prepared.set(
          participant,
          await participant.prepare({
            ...ref,
            kind: 'restore',
            backupNode,
            include: classes,
            concurrency: plan.concurrency,
          }),
        );
      }
      const parts = [...prepared.entries()];
      const state = {
        ...this.#state(
          plan,
          'restore',
          participants.map((participant) => participant.node),
          [...new Set(parts.flatMap(([, part]) => part.classes))],
          'DefaultCompression',
        ),
        attaches: parts.flatMap(([participant, part]) =>
          (part.attaches ?? []).map((attach) =>
            this.#options.cluster === undefined ? attach : { ...attach, node: participant.node },
          ),
        ),
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
      await run.abandon(participants);
      throw error;
    }
    return run.state.classes;
  }

  /**
   * Takes over `listed`, an operation whose coordinator died: takes the slot, then claims it with
   * `claim` (the store's adopt), and follows it to its end (operation-run.ts resume). The slot is
   * taken first, so an adoption never wins a claim it cannot run. Resolves false, holding nothing,
   * when another node claimed it first.
   * @throws BackupInProgressError while this node runs another operation; what `claim` throws
   */
  async adopt(listed: ListedOperation, backend: BackupBackend, claim: () => Promise<boolean>): Promise<boolean> {
    await this.#settling();
    const run = this.#reserve(listed.state, backend, this.#options.participants(listed.state.nodes));
    let won = false;
    try {
      won = await claim();
    } finally {
      if (!won) await run.abandon([]);
    }
    if (won) run.resume(listed.coordinator);
    return won;
  }

  /** True while this node coordinates an operation. */
  get busy(): boolean {
    return this.#running !== undefined;
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
    if (this.#options.cluster !== undefined) {
      run.handOver();
      return;
    }
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

  /**
   * Waits for a run whose outcome is recorded to be done writing it (a moment): it answers its
   * outcome already, so a client that saw it finish may ask for the next operation at once. At most
   * {@link SETTLING_WAIT_MS}: one whose store keeps refusing its last write leaves the slot taken.
   */
  async #settling(): Promise<void> {
    const run = this.#running;
    if (run === undefined || !FINISHED.has(run.state.status)) return;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, SETTLING_WAIT_MS);
    });
    await Promise.race([run.finished, late]);
    clearTimeout(timer);
  }

  #find(kind: OperationRef['kind'], target: Target): OperationRun | undefined {
    const run = this.#running;
    const key = operationKey({ kind, backend: target.module.name, id: target.id, scope: target.scope });
    return run !== undefined && operationKey(run.state) === key ? run : undefined;
  }

  /**
   * The nodes of the backup that restore the plan's classes, each with its target (after
   * `node_mapping`) and its classes among those selected.
   * @throws RestoreMappingError, RestoreNodeError (one node), RestoreNodeNotLiveError (a cluster), and
   * class-selection.ts's errors
   */
  #sources(
    plan: RestorePlan,
    backupNodes: GlobalNodes,
  ): Array<{ backupNode: string; target: string; classes: string[] }> {
    const names = Object.keys(backupNodes);
    for (const from of Object.keys(plan.nodeMapping)) {
      if (!names.includes(from))
        throw new RestoreMappingError(from, `is not a node of backup ${plan.id} (its nodes: ${names.join(', ')})`);
    }
    const selected = selectClasses(
      names.flatMap((node) => (backupNodes[node] as GlobalNodes[string]).classes),
      plan,
      'restore',
    );
    const live = this.#options.nodes();
    const sources = names
      .map((backupNode) => ({
        backupNode,
        target: plan.nodeMapping[backupNode] ?? backupNode,
        classes: (backupNodes[backupNode] as GlobalNodes[string]).classes.filter((name) => selected.includes(name)),
      }))
      .filter((source) => source.classes.length > 0);
    for (const { backupNode, target } of sources) {
      if (live.includes(target)) continue;
      if (this.#options.cluster === undefined) throw new RestoreNodeError(backupNode, live[0] as string);
      throw new RestoreNodeNotLiveError(backupNode, target, live);
    }
    for (const [i, { target }] of sources.entries()) {
      const other = sources.findIndex((source) => source.target === target);
      if (other !== i) {
        throw new RestoreMappingError(
          (sources[i] as (typeof sources)[number]).backupNode,
          `and ${(sources[other] as (typeof sources)[number]).backupNode} would both be restored on ${target}; map each node of the backup onto a node of its own`,
        );
      }
    }
    return sources;
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
      ...(this.#options.cluster === undefined
        ? {}
        : {
            retryStoreMs: this.#options.cluster.retryStoreMs,
            ...(state.kind === 'restore' ? { finalize: this.#options.cluster.finalize } : {}),
          }),
    });
    this.#running = run;
    return run;
  }
}
