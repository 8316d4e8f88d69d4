import { BackupCorruptError } from '../errors.js';
import type { BackendScope } from '../provider/backend.js';
import type { ModuleLogger } from '../provider/module-definition.js';
import type { Coordinator } from './coordinator.js';
import { type BackupStatus, FINISHED, gibibytes, type OperationRecord, ZERO_TIME } from './descriptors.js';
import { BackupHome } from './home.js';
import { type OperationState, type OperationStore, operationKey } from './operation-store.js';
import type { Progress } from './progress.js';
import { missingDescriptor, readGlobalDescriptor, readRestoreDescriptor } from './read-descriptors.js';
import { enabledBackend, type RequestContext, target } from './requests.js';

/**
 * Status and list queries. An operation's status is, in this order: the running operation's (with
 * progress); what the operation store holds: on a cluster, an operation another node coordinates, and
 * everywhere an outcome its provider lacks (including operations whose module is not enabled any
 * more); what its descriptor in the provider records. A damaged
 * descriptor reads FAILED, with the reason.
 */

/** What a status query answers (Weaviate's BackupCreateStatusResponse, plus progress). */
export interface OperationStatus {
  readonly id: string;
  readonly backend: string;
  readonly path: string;
  readonly status: BackupStatus;
  readonly error?: string;
  readonly startedAt: string;
  readonly completedAt: string;
  readonly size: number;
  /** Bytes moved of the total, while running (Strata's addition). */
  readonly progress?: Progress;
}

/** One backup in a list (Weaviate's BackupListResponse item). */
export interface BackupListItem {
  readonly id: string;
  readonly classes: readonly string[];
  readonly status: BackupStatus;
  /** Why a damaged backup is listed FAILED (Strata's addition). */
  readonly error?: string;
  readonly startedAt: string;
  readonly completedAt: string;
  readonly size: number;
}

export interface QueryContext extends RequestContext {
  readonly coordinator: Coordinator;
  readonly store: OperationStore;
  readonly logger: ModuleLogger;
}

type Kind = OperationState['kind'];

function statusOf(backendName: string, path: string, record: OperationRecord, progress?: Progress): OperationStatus {
  return {
    id: record.id,
    backend: backendName,
    path,
    status: record.status,
    ...(record.error === '' ? {} : { error: record.error }),
    startedAt: record.startedAt,
    completedAt: record.completedAt,
    size: gibibytes(record.preCompressionSizeBytes),
    ...(progress === undefined || FINISHED.has(record.status) ? {} : { progress }),
  };
}

/** The recorded state of `kind` `id` that `backendName` (a module's name or alternative name) runs. */
async function recorded(
  context: QueryContext,
  kind: Kind,
  backendName: string,
  id: string,
  scope: BackendScope,
): Promise<OperationState | undefined> {
  const states = await context.store.list();
  return states.find(
    (state) =>
      state.backendNames.includes(backendName) &&
      operationKey(state) === operationKey({ kind, backend: state.backend, id, scope }),
  );
}

/** The status of backup (or restore) `id` in `backendName` at `scope`. */
export async function operationStatus(
  context: QueryContext,
  kind: Kind,
  backendName: string,
  id: string,
  scope: BackendScope,
): Promise<OperationStatus> {
  if (context.modules.find(backendName) === undefined) {
    // Not enabled (any more): an operation the store holds still answers; anything else is refused.
    const state = await recorded(context, kind, backendName, id, scope);
    if (state !== undefined) return statusOf(backendName, state.home, state);
  }
  const where = target(context, backendName, id, scope);
  const live = await context.coordinator.live(kind, where);
  if (live !== undefined) return statusOf(backendName, where.home, live.state, live.progress);
  // Another node's running operation (a cluster's store holds every node's), or an outcome the provider lacks.
  const state = await recorded(context, kind, backendName, id, scope);
  if (state !== undefined) return statusOf(backendName, where.home, state);
  const { backend, home } = where;
  let descriptor: OperationRecord | undefined;
  try {
    descriptor =
      kind === 'backup'
        ? await readGlobalDescriptor(backend, id, scope)
        : await readRestoreDescriptor(backend, id, scope);
  } catch (error) {
    if (!BackupCorruptError.is(error)) throw error;
    const failed = { status: 'FAILED' as const, error: (error as Error).message };
    return { id, backend: backendName, path: home, ...failed, startedAt: ZERO_TIME, completedAt: ZERO_TIME, size: 0 };
  }
  if (descriptor === undefined) throw missingDescriptor(kind, id, home);
  return statusOf(backendName, home, descriptor);
}

/**
 * Every backup in the backend's configured location, by start time. A damaged descriptor does not
 * break the list: that backup is listed FAILED, with the reason in `error`.
 */
export async function listBackups(
  context: QueryContext,
  backendName: string,
  order: 'asc' | 'desc',
): Promise<BackupListItem[]> {
  const { backend } = enabledBackend(context, backendName);
  const ids: string[] = [];
  for await (const object of backend.list('')) {
    const id = BackupHome.idOfGlobal(object.key);
    if (id !== undefined) ids.push(id);
  }
  const items: BackupListItem[] = [];
  for (const id of ids) {
    try {
      const descriptor = await readGlobalDescriptor(backend, id, {});
      if (descriptor === undefined) continue;
      items.push({
        id: descriptor.id,
        classes: Object.values(descriptor.nodes).flatMap((node) => node.classes),
        status: descriptor.status,
        startedAt: descriptor.startedAt,
        completedAt: descriptor.completedAt,
        size: gibibytes(descriptor.preCompressionSizeBytes),
      });
    } catch (error) {
      if (!BackupCorruptError.is(error)) throw error;
      context.logger.warn({ id, err: error }, 'listing a damaged backup as FAILED');
      const failed = { status: 'FAILED' as const, error: (error as Error).message };
      items.push({ id, classes: [], ...failed, startedAt: ZERO_TIME, completedAt: ZERO_TIME, size: 0 });
    }
  }
  const direction = order === 'asc' ? 1 : -1;
  return items.sort((a, b) => direction * a.startedAt.localeCompare(b.startedAt));
}
