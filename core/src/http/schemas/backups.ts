import { COMPRESSION_LEVELS } from '../../backup/chunk-codec.js';
import { MAX_SELECTION_ENTRIES } from '../../backup/class-selection.js';
import { MAX_NODES } from '../../backup/descriptor-validation.js';

/** JSON schemas of backup requests: Weaviate's BackupCreateRequest and BackupRestoreRequest. */

/** Checked again by selectClasses; the limit here spares validating the items of a longer list. */
const classList = { type: 'array', maxItems: MAX_SELECTION_ENTRIES, items: { type: 'string' } } as const;
const cpuPercentage = {
  type: 'integer',
  minimum: 1,
  maximum: 80,
  description: 'Share of CPUs to use; default 50.',
} as const;

export const backupCreateBody = {
  type: 'object',
  properties: {
    id: { type: 'string', description: 'Lower-case letters, digits, "_" and "-".' },
    include: classList,
    exclude: classList,
    incremental_base_backup_id: { type: 'string', description: 'Refused: Strata takes full backups only.' },
    config: {
      type: 'object',
      properties: {
        CPUPercentage: cpuPercentage,
        CompressionLevel: { type: 'string', enum: [...COMPRESSION_LEVELS] },
        ChunkSize: { type: 'integer', description: 'Accepted and ignored, as in Weaviate 1.35+.' },
        Bucket: { type: 'string', description: 'Overrides the provider bucket for this backup.' },
        Path: { type: 'string', description: 'Overrides the provider path for this backup.' },
        Endpoint: { type: 'string', description: 'Accepted and ignored, as in Weaviate.' },
      },
    },
  },
} as const;

export const backupRestoreBody = {
  type: 'object',
  properties: {
    include: classList,
    exclude: classList,
    // A backup holds at most MAX_NODES nodes, so a mapping needs no more entries.
    node_mapping: { type: 'object', maxProperties: MAX_NODES, additionalProperties: { type: 'string' } },
    overwriteAlias: { type: 'boolean' },
    config: {
      type: 'object',
      properties: {
        CPUPercentage: cpuPercentage,
        Bucket: { type: 'string' },
        Path: { type: 'string' },
        Endpoint: { type: 'string' },
        rolesOptions: { type: 'string', enum: ['noRestore', 'all'] },
        usersOptions: { type: 'string', enum: ['noRestore', 'all'] },
      },
    },
  },
} as const;

export const backupPath = {
  type: 'object',
  required: ['backend', 'id'],
  properties: { backend: { type: 'string' }, id: { type: 'string' } },
} as const;

export const backendPath = {
  type: 'object',
  required: ['backend'],
  properties: { backend: { type: 'string' } },
} as const;

export const scopeQuery = {
  type: 'object',
  properties: { bucket: { type: 'string' }, path: { type: 'string' } },
} as const;

export const listQuery = {
  type: 'object',
  properties: { order: { type: 'string', enum: ['asc', 'desc'], default: 'desc' } },
} as const;
