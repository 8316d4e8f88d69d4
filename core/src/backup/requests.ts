import { availableParallelism } from 'node:os';
import { BackupBothListsError, IncrementalBackupUnsupportedError, InvalidBackupIdError } from '../errors.js';
import type { LoadedModule, ModuleRegistry } from '../modules/registry.js';
import type { BackendScope, BackupBackend } from '../provider/backend.js';
import type { CompressionLevel } from './chunk-codec.js';
import { selectClasses } from './class-selection.js';
import { isBackupId, MAX_BACKUP_ID_LENGTH } from './descriptors.js';
import { assertOutsideDataPath } from './locations.js';

/**
 * Request validation: Weaviate's rules and messages (and Strata's limits) applied to the backup
 * endpoints' requests, which come out as normalised plans. Nothing here reads a provider or starts
 * anything; what needs the provider or the data is checked by the coordinator and its participants.
 */

/** `POST /v1/backups/{backend}`, as parsed. */
export interface BackupRequest {
  readonly id?: string;
  readonly include?: readonly string[];
  readonly exclude?: readonly string[];
  /** Weaviate 1.35's file-based incremental backup, which Strata refuses rather than ignores. */
  readonly incremental_base_backup_id?: string;
  readonly config?: {
    readonly CPUPercentage?: number;
    readonly CompressionLevel?: string;
    readonly ChunkSize?: number;
    readonly Bucket?: string;
    readonly Path?: string;
  };
}

/** `POST /v1/backups/{backend}/{id}/restore`, as parsed. */
export interface RestoreRequest {
  readonly include?: readonly string[];
  readonly exclude?: readonly string[];
  readonly node_mapping?: Readonly<Record<string, string>>;
  readonly config?: { readonly CPUPercentage?: number; readonly Bucket?: string; readonly Path?: string };
}

/** What the requests are checked against. */
export interface RequestContext {
  readonly modules: ModuleRegistry;
  /** The node's data path, which directory backends' locations must stay out of. */
  readonly dataPath: string;
}

/** A backup in an enabled backend, as a request names it. */
export interface Target {
  /** The backend as the request named it (`filesystem`), for replies. */
  readonly backendName: string;
  readonly module: LoadedModule;
  readonly backend: BackupBackend;
  readonly id: string;
  readonly scope: BackendScope;
  /** Where the backup lives, as replies give `path`. */
  readonly home: string;
}

export interface BackupPlan extends Target {
  readonly classes: readonly string[];
  readonly compression: CompressionLevel;
  /** Chunks in flight on each node. */
  readonly concurrency: number;
}

export interface RestorePlan extends Target {
  readonly include?: readonly string[] | undefined;
  readonly exclude?: readonly string[] | undefined;
  readonly nodeMapping: Readonly<Record<string, string>>;
  readonly concurrency: number;
}

const DEFAULT_CPU_PERCENTAGE = 50;
/**
 * Chunks in flight whatever CPUPercentage says: with one, packing and uploading take turns (each part
 * waits for the server's answer). Chunk workers run at the lowest priority, so a second one takes only
 * CPU the node leaves idle. On 2 cores this took an S3 backup from 13.4 s to 11.5 s (bench:s3).
 */
const MIN_CHUNKS_IN_FLIGHT = 2;

/** The bucket and path a request's `config` (or query) names. */
export function scopeOf(config: { readonly Bucket?: string; readonly Path?: string } | undefined): BackendScope {
  return {
    ...(config?.Bucket ? { bucket: config.Bucket } : {}),
    ...(config?.Path ? { path: config.Path } : {}),
  };
}

/** The enabled module `backendName` names. @throws BackendNotEnabledError */
export function enabledBackend(
  context: RequestContext,
  backendName: string,
): { module: LoadedModule; backend: BackupBackend } {
  const backend = context.modules.backend(backendName);
  return { module: context.modules.find(backendName) as LoadedModule, backend };
}

/** Refuses an id Weaviate would refuse, or one too long to be a directory name and a key segment. */
function checkId(id: string): void {
  if (!isBackupId(id)) throw new InvalidBackupIdError(id, MAX_BACKUP_ID_LENGTH);
}

/** The backup `id` of `backendName` at `scope`, for status and cancel; checks backend, id and location. */
export function target(context: RequestContext, backendName: string, id: string, scope: BackendScope): Target {
  const { module, backend } = enabledBackend(context, backendName);
  checkId(id);
  return located(context, { backendName, module, backend, id, scope });
}

/** Refuses a location in the node's own data path, for backends that keep backups in directories. */
function located(context: RequestContext, partial: Omit<Target, 'home'>): Target {
  if (partial.module.capabilities.pathScope === 'directory') {
    assertOutsideDataPath(partial.backend, partial.id, partial.scope, context.dataPath);
  }
  return { ...partial, home: partial.backend.homePath(partial.id, partial.scope) };
}

/** Chunks in flight for a CPUPercentage (0 or none: the default). */
function concurrencyOf(cpuPercentage: number | undefined): number {
  const percentage = cpuPercentage === undefined || cpuPercentage === 0 ? DEFAULT_CPU_PERCENTAGE : cpuPercentage;
  return Math.max(MIN_CHUNKS_IN_FLIGHT, Math.round((availableParallelism() * percentage) / 100));
}

/** A backup request of `backendName`, over the node's `available` classes, as a plan. */
export function planBackup(
  context: RequestContext,
  backendName: string,
  request: BackupRequest,
  available: readonly string[],
): BackupPlan {
  const { module, backend } = enabledBackend(context, backendName);
  const id = request.id ?? '';
  checkId(id);
  // A full backup in its place would be a silent surprise: a client asking for an increment says so.
  const base = request.incremental_base_backup_id;
  if (base !== undefined && base !== '') throw new IncrementalBackupUnsupportedError(base);
  const classes = selectClasses(available, request, 'backup');
  const compression = (request.config?.CompressionLevel ?? 'DefaultCompression') as CompressionLevel;
  const scope = scopeOf(request.config);
  return {
    ...located(context, { backendName, module, backend, id, scope }),
    classes,
    compression,
    concurrency: concurrencyOf(request.config?.CPUPercentage),
  };
}

/** A restore request of backup `id` in `backendName`, as a plan. */
export function planRestore(
  context: RequestContext,
  backendName: string,
  id: string,
  request: RestoreRequest,
): RestorePlan {
  const { module, backend } = enabledBackend(context, backendName);
  checkId(id);
  if ((request.include?.length ?? 0) > 0 && (request.exclude?.length ?? 0) > 0) throw new BackupBothListsError();
  const scope = scopeOf(request.config);
  return {
    ...located(context, { backendName, module, backend, id, scope }),
    include: request.include,
    exclude: request.exclude,
    nodeMapping: request.node_mapping ?? {},
    concurrency: concurrencyOf(request.config?.CPUPercentage),
  };
}
