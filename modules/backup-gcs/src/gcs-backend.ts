import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { addAbortSignal, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Storage } from '@google-cloud/storage';
import {
  assertSafeKey,
  type BackendScope,
  type BackupBackend,
  type CallOptions,
  keyPrefix,
  type ModuleLogger,
  NotFoundError,
  type ObjectInfo,
  resumingDownload,
  UnsupportedScopeError,
} from '@strata/core';
import { GcsCredentialsFileError } from './errors.js';
import { failWhenSilent } from './fail-when-silent.js';
import { describeFailure, type FailureContext, httpStatus, isBrokenConnection, isObjectNotFound } from './failure.js';

/** The access check's probe object. */
const PROBE_PREFIX = '.strata-access-check-';
const MODULE = 'backup-gcs';
const PAGE_SIZE = 1000;
/** Bytes per ranged read of a download. */
const READ_RANGE = 8 * 1024 * 1024;

/** Options of {@link GcsBackend}. */
export interface GcsBackendOptions {
  readonly storage: Storage;
  /** The endpoint requests go to, for messages. */
  readonly endpoint: string;
  /** True when the endpoint is STORAGE_EMULATOR_HOST. */
  readonly emulator: boolean;
  /** False when requests go out anonymous (an emulator, or BACKUP_GCS_USE_AUTH=false). */
  readonly authenticated: boolean;
  /** GOOGLE_APPLICATION_CREDENTIALS, checked by the access check. */
  readonly credentialsFile?: string | undefined;
  /** The bucket backups go to (BACKUP_GCS_BUCKET). */
  readonly bucket: string;
  /** Object name prefix inside the bucket (BACKUP_GCS_PATH); empty for none. */
  readonly path: string;
  /** Bytes per request of a resumable upload; 0 streams each object in one request. */
  readonly chunkSize: number;
  /** Attempts per request, also used for resuming a download. */
  readonly maxAttempts: number;
  /** Seconds a download may stay silent before it is resumed (BACKUP_GCS_TIMEOUT_SECONDS). */
  readonly timeoutSeconds: number;
  readonly logger?: ModuleLogger;
}

/** Where one call goes: a bucket and a normalised name prefix (empty or ending in `/`). */
interface Location {
  readonly bucket: string;
  readonly prefix: string;
}

/**
 * A backup backend over a Google Cloud Storage bucket. Keys map to object names under the configured
 * prefix. Writes are resumable uploads streamed from the source (an object appears only once whole;
 * a failed or cancelled upload leaves no object), downloads resume after a broken connection, pinned
 * to the object's generation.
 *
 * It has no `discardPartialWrites`: what a killed writer leaves is a resumable session, which holds
 * no object, cannot be listed (cancelling one takes its URI, which only the dead process knew) and
 * ends a week after it started.
 */
export class GcsBackend implements BackupBackend {
  readonly #options: GcsBackendOptions;
  readonly #storage: Storage;
  #loggedCredentials = false;

  constructor(options: GcsBackendOptions) {
    this.#options = options;
    this.#storage = options.storage;
  }

  homePath(backupId: string, scope?: BackendScope): string {
    assertSafeKey(backupId);
    return `${this.#homeOf(this.#locate(scope))}${backupId}`;
  }

  async checkAccess(options?: CallOptions): Promise<void> {
    const at = this.#locate(options?.scope);
    await this.#checkCredentialsFile();
    this.#logCredentials(at);
    const bucket = this.#storage.bucket(at.bucket);
    // Reading the bucket tells a missing bucket apart; objectAdmin alone may not read it (403): the
    // probe below then decides.
    await this.#call('reading the bucket', at, async () => {
      try {
        await bucket.getMetadata();
      } catch (error) {
        if (httpStatus(error) !== 403) throw error;
      }
    });
    options?.signal?.throwIfAborted();
    const file = bucket.file(`${at.prefix}${PROBE_PREFIX}${randomBytes(8).toString('hex')}`);
    await this.#call('writing the access check probe', at, () => file.save(Buffer.alloc(0), { resumable: false }));
    try {
      await this.#call('reading the access check probe', at, () => file.getMetadata());
      await this.#call('listing the bucket', at, () =>
        bucket.getFiles({ prefix: file.name, maxResults: 1, autoPaginate: false }),
      );
    } finally {
      await this.#call('deleting the access check probe', at, () => file.delete({ ignoreNotFound: true }));
    }
  }

  async write(key: string, body: Readable, options?: CallOptions): Promise<number> {
    const at = this.#locate(options?.scope);
    const file = this.#storage.bucket(at.bucket).file(this.#objectName(at, key));
    const signal = options?.signal;
    signal?.throwIfAborted();
    const upload = file.createWriteStream({
      resumable: true,
      contentType: 'application/octet-stream',
      ...(this.#options.chunkSize > 0 ? { chunkSize: this.#options.chunkSize } : {}),
    });
    // The client library takes writes faster than it sends them when uploading in chunks (each byte
    // read twice, once to cut the chunk and once to send it, admits two more): left alone it held
    // half of a 1 GiB object. The source waits while more than two chunks are unsent.
    const ahead = 2 * Math.max(this.#options.chunkSize, READ_RANGE);
    let sent = 0;
    let wake: (() => void) | undefined;
    const woken = () => {
      wake?.();
      wake = undefined;
    };
    upload.on('progress', (progress: { bytesWritten: number }) => {
      sent = progress.bytesWritten;
      woken();
    });
    upload.once('close', woken);
    let written = 0;
    let sourceError: { error: unknown } | undefined;
    const counted = (async function* () {
      try {
        for await (const chunk of body) {
          written += (chunk as Uint8Array).length;
          yield chunk as Uint8Array;
          while (written - sent > ahead && !upload.destroyed) {
            await new Promise<void>((resolve) => {
              wake = resolve;
            });
          }
        }
      } catch (error) {
        sourceError = { error };
        throw error;
      }
    })();
    try {
      // Destroying the upload stream (on abort or failure) leaves the resumable session unfinalised:
      // no object appears, and Google drops the session after a week.
      await pipeline(counted, upload, ...(signal === undefined ? [] : [{ signal }]));
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (sourceError !== undefined) throw sourceError.error;
      throw describeFailure(error, `writing "${key}"`, this.#context(at));
    }
    return written;
  }

  async read(key: string, options?: CallOptions): Promise<Readable> {
    const at = this.#locate(options?.scope);
    const name = this.#objectName(at, key);
    const [metadata] = await this.#call(
      `reading "${key}"`,
      at,
      () => this.#storage.bucket(at.bucket).file(name).getMetadata(),
      key,
    );
    // Every request of the download reads this generation, so a resumed one never mixes two versions.
    const generation = Number(metadata.generation);
    const file = this.#storage.bucket(at.bucket).file(name, { generation });
    const size = Number(metadata.size ?? 0);
    // Read in ranges: the client library reads ahead of a slow consumer, so one request for the whole
    // object can pile it up in memory. Restores check every chunk's SHA-256, so the library's own
    // validation (whole objects only) is not needed.
    const silence = this.#options.timeoutSeconds * 1000;
    const open = async function* (offset: number): AsyncGenerator<Uint8Array> {
      for (let start = offset; start < size; start += READ_RANGE) {
        const end = Math.min(start + READ_RANGE, size) - 1;
        yield* failWhenSilent(file.createReadStream({ start, end, validation: false }), silence);
      }
    };
    const context = this.#context(at);
    const signal = options?.signal;
    const maxAttempts = this.#options.maxAttempts;
    const stream = Readable.from(
      (async function* () {
        try {
          yield* resumingDownload(open(0), {
            size,
            maxAttempts,
            signal,
            isResumable: isBrokenConnection,
            reopen: async (offset) => open(offset),
          });
        } catch (error) {
          if (signal?.aborted) throw signal.reason;
          if (isObjectNotFound(error)) throw new NotFoundError(key, `gs://${at.bucket}/${at.prefix}`).withCause(error);
          throw describeFailure(error, `reading "${key}"`, context);
        }
      })(),
      { objectMode: false },
    );
    return signal === undefined ? stream : addAbortSignal(signal, stream);
  }

  async *list(prefix: string, options?: CallOptions): AsyncIterable<ObjectInfo> {
    const at = this.#locate(options?.scope);
    const bucket = this.#storage.bucket(at.bucket);
    let pageToken: string | undefined;
    do {
      options?.signal?.throwIfAborted();
      const token = pageToken;
      const [files, next] = await this.#call(`listing "${prefix}"`, at, () =>
        bucket.getFiles({
          prefix: `${at.prefix}${prefix}`,
          maxResults: PAGE_SIZE,
          autoPaginate: false,
          ...(token === undefined ? {} : { pageToken: token }),
        }),
      );
      for (const file of files) {
        yield { key: file.name.slice(at.prefix.length), size: Number(file.metadata.size ?? 0) };
      }
      pageToken = (next as { pageToken?: string } | null | undefined)?.pageToken;
    } while (pageToken !== undefined);
  }

  async delete(key: string, options?: CallOptions): Promise<void> {
    const at = this.#locate(options?.scope);
    const file = this.#storage.bucket(at.bucket).file(this.#objectName(at, key));
    await this.#call(`deleting "${key}"`, at, () => file.delete({ ignoreNotFound: true }));
  }

  async close(): Promise<void> {}

  /** `gs://bucket/prefix`, where a scope's objects live. */
  #homeOf(at: Location): string {
    return `gs://${at.bucket}/${at.prefix}`;
  }

  #locate(scope: BackendScope | undefined): Location {
    const bucket = scope?.bucket === undefined || scope.bucket === '' ? this.#options.bucket : scope.bucket;
    if (!/^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/.test(bucket)) {
      throw new UnsupportedScopeError(
        MODULE,
        `${JSON.stringify(bucket)} is not a bucket name: use 3 to 222 lowercase letters, digits, ".", "-" or "_", ` +
          'starting and ending with a letter or digit (in config.Bucket or BACKUP_GCS_BUCKET)',
      );
    }
    const path = scope?.path === undefined || scope.path === '' ? this.#options.path : scope.path;
    return { bucket, prefix: keyPrefix(MODULE, path) };
  }

  #objectName(at: Location, key: string): string {
    assertSafeKey(key);
    return `${at.prefix}${key}`;
  }

  #credentials(): string {
    if (!this.#options.authenticated) return 'no credentials (anonymous requests)';
    return this.#options.credentialsFile === undefined
      ? 'Application Default Credentials'
      : `the key file in GOOGLE_APPLICATION_CREDENTIALS (${this.#options.credentialsFile})`;
  }

  #context(at: Location): FailureContext {
    return {
      target: `bucket "${at.bucket}" at ${this.#options.endpoint}`,
      credentials: this.#credentials(),
      emulator: this.#options.emulator,
    };
  }

  /**
   * Runs one SDK call, turning its failure into an error that says what to check; `key`, when given,
   * turns a missing object into `NotFoundError`.
   */
  async #call<T>(what: string, at: Location, send: () => Promise<T>, key?: string): Promise<T> {
    try {
      return await send();
    } catch (error) {
      if (key !== undefined && isObjectNotFound(error)) {
        throw new NotFoundError(key, this.#homeOf(at)).withCause(error);
      }
      throw describeFailure(error, what, this.#context(at));
    }
  }

  /** A GOOGLE_APPLICATION_CREDENTIALS that names no readable JSON key fails here, not deep in the SDK. */
  async #checkCredentialsFile(): Promise<void> {
    const path = this.#options.credentialsFile;
    if (!this.#options.authenticated || path === undefined) return;
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const reason =
        code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'the node may not read' : `cannot be read (${code})`;
      throw new GcsCredentialsFileError(path, reason).withCause(error);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new GcsCredentialsFileError(path, 'is not JSON').withCause(error);
    }
    if (typeof (parsed as { type?: unknown } | null)?.type !== 'string') {
      throw new GcsCredentialsFileError(path, 'has no "type" field, so it is not a Google credentials file');
    }
  }

  /** Logs once where the credentials come from (a source, never a value). */
  #logCredentials(at: Location): void {
    if (this.#loggedCredentials) return;
    this.#loggedCredentials = true;
    this.#options.logger?.info(
      { credentials: this.#credentials(), endpoint: this.#options.endpoint, bucket: at.bucket },
      `backup-gcs signs requests with ${this.#credentials()}`,
    );
  }
}
