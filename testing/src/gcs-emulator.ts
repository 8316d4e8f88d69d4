import { startServerProcess } from './process.js';

/** The project the emulator reports; object calls do not need one, but the client wants it. */
const PROJECT_ID = 'strata-test';

/** A running Cloud Storage emulator (firebase-tools' JSON API server). */
export interface GcsEmulator {
  /** `http://127.0.0.1:PORT`: the client's `apiEndpoint`, or STORAGE_EMULATOR_HOST. */
  readonly endpoint: string;
  readonly projectId: string;
  /** The environment that points backup-gcs at `bucket` on this emulator. */
  env(bucket: string): Record<string, string>;
  stop(): Promise<void>;
}

/** Options of {@link startGcsEmulator}. */
export interface GcsEmulatorOptions {
  /** Buckets created at start; others are created with the JSON API, as on GCS. */
  readonly buckets?: readonly string[];
}

/**
 * Starts the Cloud Storage emulator of firebase-tools in its own process on a free port (see
 * gcs-emulator-process.ts). Resumable uploads stream to disk, in one request or in chunks, of any
 * size; one-shot (media and multipart) uploads are held in memory and capped at 130 MB.
 */
export async function startGcsEmulator(options: GcsEmulatorOptions = {}): Promise<GcsEmulator> {
  // The emulator keeps object bytes under $TMPDIR/firebase: a directory per instance.
  const server = await startServerProcess({
    name: 'strata-gcs-',
    entry: './gcs-emulator-process.js',
    args: () => [PROJECT_ID, ...(options.buckets ?? [])],
    env: (directory) => ({ TMPDIR: directory }),
    ready: /GCS emulator listening on [\d.]+:(\d+)/,
  });
  const { endpoint } = server;
  return {
    endpoint,
    projectId: PROJECT_ID,
    env: (bucket) => ({
      BACKUP_GCS_BUCKET: bucket,
      BACKUP_GCS_USE_AUTH: 'false',
      STORAGE_EMULATOR_HOST: endpoint,
      GOOGLE_CLOUD_PROJECT: PROJECT_ID,
    }),
    stop: () => server.stop(),
  };
}
