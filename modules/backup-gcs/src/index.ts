/**
 * @strata/backup-gcs: stores Strata backups in Google Cloud Storage.
 *
 * Enable it with `ENABLE_MODULES=backup-gcs` and set `BACKUP_GCS_BUCKET` to an existing bucket. Backups
 * land under `gs://<bucket>/<BACKUP_GCS_PATH>/<backup id>/`. Credentials are Google's Application
 * Default Credentials; every node of a cluster can reach the bucket, so the module declares itself
 * external. docs/providers/gcs.md lists every variable.
 *
 * @packageDocumentation
 */
import { BACKUP_BACKEND, ConfigValueError, defineBackupModule, MODULE_API_VERSION, parsers } from '@strata/core';
import { createStorage, parseEmulatorHost, storageSettings } from './client.js';
import { GcsBackend } from './gcs-backend.js';

export { createStorage, GCS_ENDPOINT, parseEmulatorHost, type StorageConfig, storageSettings } from './client.js';
export { GcsBackend, type GcsBackendOptions } from './gcs-backend.js';

const MiB = 1024 * 1024;

/** Resumable upload requests carry multiples of 256 KiB (Google's rule); 0 sends each object in one. */
function chunkSize(raw: string): number {
  const bytes = parsers.byteSize(raw);
  if (bytes !== 0 && (bytes % (256 * 1024) !== 0 || bytes > 1024 * MiB)) {
    throw new ConfigValueError({ expected: '0, or a multiple of 256KiB up to 1GiB' });
  }
  return bytes;
}

export default defineBackupModule({
  name: 'backup-gcs',
  altNames: ['gcs'],
  apiVersion: MODULE_API_VERSION,
  capabilities: { external: true, pathScope: 'prefix' },
  config: {
    bucket: {
      name: 'BACKUP_GCS_BUCKET',
      required: true,
      description: 'The bucket backups are written to; it must exist.',
    },
    path: {
      name: 'BACKUP_GCS_PATH',
      default: '',
      description: 'Object name prefix inside the bucket; none by default.',
    },
    useAuth: {
      name: 'BACKUP_GCS_USE_AUTH',
      default: true,
      parse: parsers.boolean,
      description: 'Sign requests with Application Default Credentials; false for public buckets (and emulators).',
    },
    credentialsFile: {
      name: 'GOOGLE_APPLICATION_CREDENTIALS',
      description: 'A service account (or external account) JSON key file; unset, the rest of ADC is used.',
    },
    projectId: {
      name: 'GOOGLE_CLOUD_PROJECT',
      fallbacks: ['GCLOUD_PROJECT', 'GCP_PROJECT'],
      description: 'The Google Cloud project; object operations do not need it.',
    },
    emulatorHost: {
      name: 'STORAGE_EMULATOR_HOST',
      parse: parseEmulatorHost,
      description: 'A Cloud Storage emulator (host:port or http://host:port); requests to it are anonymous.',
    },
    chunkSize: {
      name: 'BACKUP_GCS_CHUNK_SIZE',
      // A failed request resumes from its chunk, which the client holds in memory; an object sent in
      // one request (0) cannot resume once bytes are lost in flight, so one failure fails the write.
      default: 8 * MiB,
      parse: chunkSize,
      description:
        'Bytes per resumable upload request (multiple of 256KiB), held in memory per upload; 0 sends each object in one request, which cannot resume.',
    },
    maxAttempts: {
      name: 'BACKUP_GCS_MAX_ATTEMPTS',
      default: 5,
      parse: parsers.integer({ min: 1, max: 20 }),
      description: 'Attempts per request (and per broken download) before a call fails.',
    },
    timeoutSeconds: {
      name: 'BACKUP_GCS_TIMEOUT_SECONDS',
      default: 60,
      parse: parsers.integer({ min: 1, max: 3600 }),
      description:
        'Seconds a request may go unanswered (an upload request: to send one chunk), or a download stay silent, before it is retried.',
    },
  },
  meta: (config) => ({
    bucket: config.bucket,
    path: config.path,
    endpoint: storageSettings(config).endpoint,
  }),
  register({ container, config, logger }) {
    const settings = storageSettings(config);
    const backend = new GcsBackend({
      storage: createStorage(config),
      endpoint: settings.endpoint,
      emulator: config.emulatorHost !== undefined,
      authenticated: settings.authenticated,
      credentialsFile: config.credentialsFile,
      bucket: config.bucket,
      path: config.path,
      chunkSize: config.chunkSize,
      maxAttempts: config.maxAttempts,
      timeoutSeconds: config.timeoutSeconds,
      logger,
    });
    container.register(BACKUP_BACKEND, { useValue: backend });
  },
});
