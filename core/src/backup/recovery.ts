import type { Database } from '../db/index.js';
import type { ModuleRegistry } from '../modules/registry.js';
import type { BackupBackend } from '../provider/backend.js';
import type { ModuleLogger } from '../provider/module-definition.js';
import { deleteBackupObjects, discardPartialWrites } from './backup-cleanup.js';
import { FINISHED, type OperationRecord } from './descriptors.js';
import { BackupHome } from './home.js';
import { type DescriptorAuthor, writeDescriptor } from './operation-descriptors.js';
import { endedBecause, type OperationState, type OperationStore, settledOf } from './operation-store.js';
import { readGlobalDescriptor, readRestoreDescriptor } from './read-descriptors.js';
import { clearStaging } from './staging.js';

/**
 * Start-up: settles every operation the operation store still holds, whatever point a crash hit.
 * An interrupted backup ends FAILED ("node restarted during backup"; CANCELED if a cancel was
 * recorded), with its chunks and whatever its cut-short writes left deleted (a restore's cut-short
 * descriptor write too). An interrupted restore
 * ends SUCCESS when its classes were attached before the node died (the schema holds them with the
 * backup's shards), FAILED (or CANCELED) otherwise. An outcome the provider did not get is written
 * again. An operation whose module is not enabled any more is kept, answering FAILED here, and
 * settled in its provider once the module is enabled again. Staging is removed. Weaviate leaves such
 * operations STARTED, which made them look alive.
 */

export interface RecoveryOptions {
  readonly store: OperationStore;
  readonly modules: ModuleRegistry;
  readonly db: Database;
  readonly dataPath: string;
  readonly author: DescriptorAuthor;
  readonly logger: ModuleLogger;
}

export async function recoverOperations(options: RecoveryOptions): Promise<void> {
  const { store, modules, logger } = options;
  await clearStaging(options.dataPath);
  for (const listed of await store.list()) {
    // An outcome the coordinator decided before the crash stands.
    const recorded = settledOf(listed);
    const { kind, id, backend } = recorded;
    const state = FINISHED.has(recorded.status) ? recorded : interrupted(recorded, options.db);
    const module = modules.find(backend);
    if (module === undefined) {
      await store.put({ ...state, cleanupPending: state.cleanupPending ?? state !== recorded });
      logger.warn(
        { id, backend },
        `cannot settle the interrupted ${kind} ${id} in its provider: module ${backend} is not enabled. It answers ` +
          `${state.status} here, and is settled in the provider once the module is enabled again`,
      );
      continue;
    }
    try {
      const outcome = await settle(options, module.backend, recorded, state);
      await store.remove(state);
      if (outcome !== undefined) logger.warn({ id, backend }, `marked ${kind} ${id} ${outcome}`);
    } catch (error) {
      logger.error({ id, err: error }, `could not settle the interrupted ${kind} ${id}`);
    }
  }
}

/** The outcome of an operation a crash interrupted; what it left in the provider is to be cleaned. */
function interrupted(state: OperationState, db: Database): OperationState {
  const completedAt = new Date().toISOString();
  if (state.kind === 'restore' && attached(state, db)) return { ...state, status: 'SUCCESS', error: '', completedAt };
  const canceled = state.cancelRequested === true;
  return {
    ...state,
    status: canceled ? 'CANCELED' : 'FAILED',
    error: canceled ? endedBecause.canceled(state.kind) : endedBecause.restarted(state.kind),
    completedAt,
    cleanupPending: true,
  };
}

/** True when the schema holds every class the restore attaches, with exactly its shards. */
function attached(state: OperationState, db: Database): boolean {
  return (
    state.attaches?.every(({ class: name, shards }) => {
      if (db.getClass(name) === undefined) return false;
      const present = db.shardsOf(name).map((shard) => shard.name);
      return present.length === shards.length && shards.every((shard) => present.includes(shard));
    }) === true
  );
}

/**
 * Writes `state`'s outcome to its provider, after deleting what the interrupted run left there;
 * resolves with what to log, or undefined when the provider held the outcome already.
 */
async function settle(
  options: RecoveryOptions,
  backend: BackupBackend,
  recorded: OperationState,
  state: OperationState,
): Promise<string | undefined> {
  const { id, scope, kind } = state;
  const home = new BackupHome(id);
  const current: OperationRecord | undefined =
    kind === 'backup'
      ? await readGlobalDescriptor(backend, id, scope)
      : await readRestoreDescriptor(backend, id, scope);
  // The outcome reached the provider before the crash; only the store still held the operation (it is
  // forgotten only after the provider has it, and the provider is written only with the outcome).
  const ours = current !== undefined && current.startedAt === state.startedAt;
  const written = ours && FINISHED.has(current.status);
  if (written && (state.cleanupPending !== true || !FINISHED.has(recorded.status))) return undefined;
  if (state.cleanupPending === true) {
    if (kind === 'backup') {
      await deleteBackupObjects(backend, home, Object.fromEntries(state.nodes.map((n) => [n, state])), scope);
    }
    // A restore writes only its descriptor, but a crash can cut that write short too.
    await discardPartialWrites(backend, home, scope, options.logger);
  }
  await writeDescriptor(backend, state, options.author);
  if (state === recorded) return `${state.status}: its outcome is now recorded in the provider`;
  return state.status === 'SUCCESS'
    ? 'SUCCESS: its classes were attached before the node stopped'
    : `${state.status}: ${state.error}`;
}
