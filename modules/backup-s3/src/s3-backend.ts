import { randomBytes } from 'node:crypto';
import { addAbortSignal, Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import {
  assertSafeKey,
  type BackendScope,
  type BackupBackend,
  type CallOptions,
  InvalidKeyError,
  keyPrefix,
  type ModuleLogger,
  NotFoundError,
  type ObjectInfo,
  resumingDownload,
  UnsupportedScopeError,
} from '@strata/core';
import { chainSource, STATIC_SOURCE } from './credentials.js';
import { S3ObjectTooLargeError } from './errors.js';
import { describeFailure, isBrokenConnection, isNoSuchKey, isNoSuchUpload } from './failure.js';
import { uploadStream } from './multipart-upload.js';

/** The access check's probe object. */
const PROBE_PREFIX = '.strata-access-check-';
const MODULE = 'backup-s3';
/** What discardPartialWrites needs beyond what writes need, for an access-denied message. */
const DISCARD_PERMISSIONS = 's3:ListBucketMultipartUploads on the bucket and s3:AbortMultipartUpload on its objects';

/** Options of {@link S3Backend}. */
export interface S3BackendOptions {
  /** A configured client (endpoint, region, credentials, retries); the backend owns it and destroys it on close. */
  readonly client: S3Client;
  /** The endpoint URL, for messages. */
  readonly endpoint: string;
  /** The region requests are signed for, for messages. */
  readonly region: string;
  /** The bucket backups go to (BACKUP_S3_BUCKET). */
  readonly bucket: string;
  /** Key prefix inside the bucket (BACKUP_S3_PATH); empty for none. */
  readonly path: string;
  /** True when static keys were configured, false for the SDK's default chain. */
  readonly staticKeys: boolean;
  /** Multipart part size in bytes. */
  readonly partSize: number;
  /** Parts of one object uploaded at once. */
  readonly concurrency: number;
  /** Attempts per request, also used for resuming a download. */
  readonly maxAttempts: number;
  readonly logger?: ModuleLogger;
}

/** Where one call goes: a bucket and a normalised key prefix (empty or ending in `/`). */
interface Location {
  readonly bucket: string;
  readonly prefix: string;
}

/**
 * A backup backend over an S3 bucket (Amazon S3 or any S3-compatible store). Keys map to object keys
 * under the configured prefix. Writes stream as multipart uploads, so memory stays under
 * `partSize x (concurrency + 1)` whatever the object's size, and a failed or cancelled upload is
 * aborted so no parts are left billed; discardPartialWrites aborts those of a process that died
 * mid-upload. Reads stream and resume after a broken connection.
 */
export class S3Backend implements BackupBackend {
  readonly #options: S3BackendOptions;
  readonly #client: S3Client;
  #credentials: string;
  #loggedCredentials = false;

  constructor(options: S3BackendOptions) {
    this.#options = options;
    this.#client = options.client;
    this.#credentials = options.staticKeys ? STATIC_SOURCE : 'the AWS SDK default chain';
  }

  homePath(backupId: string, scope?: BackendScope): string {
    assertSafeKey(backupId);
    return `${this.#homeOf(this.#locate(scope))}${backupId}`;
  }

  async checkAccess(options?: CallOptions): Promise<void> {
    const at = this.#locate(options?.scope);
    await this.#logCredentials(at);
    const key = `${at.prefix}${PROBE_PREFIX}${randomBytes(8).toString('hex')}`;
    const signal = options?.signal;
    await this.#call('writing the access check probe', at, () =>
      this.#client.send(
        new PutObjectCommand({ Bucket: at.bucket, Key: key, Body: Buffer.alloc(0), ContentLength: 0 }),
        { abortSignal: signal },
      ),
    );
    try {
      await this.#call('reading the access check probe', at, () =>
        this.#client.send(new HeadObjectCommand({ Bucket: at.bucket, Key: key }), { abortSignal: signal }),
      );
      await this.#call('listing the bucket', at, () =>
        this.#client.send(new ListObjectsV2Command({ Bucket: at.bucket, Prefix: key, MaxKeys: 1 }), {
          abortSignal: signal,
        }),
      );
    } finally {
      await this.#call('deleting the access check probe', at, () =>
        this.#client.send(new DeleteObjectCommand({ Bucket: at.bucket, Key: key })),
      );
    }
  }

  async write(key: string, body: Readable, options?: CallOptions): Promise<number> {
    const at = this.#locate(options?.scope);
    const objectKey = this.#objectKey(at, key);
    const signal = options?.signal;
    signal?.throwIfAborted();
    // Aborting destroys the source, so a write waiting on it stops too.
    const source = signal === undefined ? body : addAbortSignal(signal, body);
    try {
      return await uploadStream(source, {
        client: this.#client,
        bucket: at.bucket,
        key: objectKey,
        partSize: this.#options.partSize,
        concurrency: this.#options.concurrency,
        signal,
        describe: (error) => describeFailure(error, `writing "${key}"`, this.#context(at)),
        tooLarge: () => new S3ObjectTooLargeError(key, this.#options.partSize),
      });
    } catch (error) {
      throw signal?.aborted ? signal.reason : error;
    }
  }

  async read(key: string, options?: CallOptions): Promise<Readable> {
    const at = this.#locate(options?.scope);
    const objectKey = this.#objectKey(at, key);
    const signal = options?.signal;
    const get = (range?: { offset: number; etag: string | undefined }) =>
      this.#call(
        `reading "${key}"`,
        at,
        () =>
          this.#client.send(
            new GetObjectCommand({
              Bucket: at.bucket,
              Key: objectKey,
              ...(range === undefined ? {} : { Range: `bytes=${range.offset}-`, IfMatch: range.etag }),
            }),
            { abortSignal: signal },
          ),
        key,
      );
    const first = await get();
    const etag = first.ETag;
    const stream = Readable.from(
      resumingDownload(first.Body as AsyncIterable<Uint8Array>, {
        size: first.ContentLength ?? 0,
        maxAttempts: this.#options.maxAttempts,
        signal,
        isResumable: isBrokenConnection,
        reopen: async (offset) => (await get({ offset, etag })).Body as AsyncIterable<Uint8Array>,
      }),
      { objectMode: false },
    );
    return signal === undefined ? stream : addAbortSignal(signal, stream);
  }

  async *list(prefix: string, options?: CallOptions): AsyncIterable<ObjectInfo> {
    const at = this.#locate(options?.scope);
    let token: string | undefined;
    do {
      options?.signal?.throwIfAborted();
      const page = await this.#call(`listing "${prefix}"`, at, () =>
        this.#client.send(
          new ListObjectsV2Command({ Bucket: at.bucket, Prefix: `${at.prefix}${prefix}`, ContinuationToken: token }),
          { abortSignal: options?.signal },
        ),
      );
      for (const object of page.Contents ?? []) {
        if (object.Key === undefined) continue;
        yield { key: object.Key.slice(at.prefix.length), size: object.Size ?? 0 };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  async delete(key: string, options?: CallOptions): Promise<void> {
    const at = this.#locate(options?.scope);
    const objectKey = this.#objectKey(at, key);
    await this.#call(`deleting "${key}"`, at, () =>
      this.#client.send(new DeleteObjectCommand({ Bucket: at.bucket, Key: objectKey }), {
        abortSignal: options?.signal,
      }),
    );
  }

  /**
   * Aborts the unfinished multipart uploads under `prefix`, listed page by page. A write still in
   * progress whose upload is aborted fails at its next part or at completion (S3 answers
   * NoSuchUpload), so it never leaves an object. A part in flight during the abort may still be
   * stored after it, as AWS warns: core calls this only when none of its writes are running.
   */
  async discardPartialWrites(prefix: string, options?: CallOptions): Promise<number> {
    const at = this.#locate(options?.scope);
    if (prefix !== '') {
      if (!prefix.endsWith('/')) {
        throw new InvalidKeyError(
          prefix,
          'discardPartialWrites() takes "" or a prefix that ends with "/", such as "<backupId>/"',
        );
      }
      assertSafeKey(prefix.slice(0, -1));
    }
    const signal = options?.signal;
    let removed = 0;
    let markers: { KeyMarker?: string | undefined; UploadIdMarker?: string | undefined } = {};
    try {
      for (;;) {
        signal?.throwIfAborted();
        const page = await this.#client.send(
          new ListMultipartUploadsCommand({ Bucket: at.bucket, Prefix: `${at.prefix}${prefix}`, ...markers }),
          { abortSignal: signal },
        );
        for (const { Key, UploadId } of page.Uploads ?? []) {
          try {
            await this.#client.send(new AbortMultipartUploadCommand({ Bucket: at.bucket, Key, UploadId }), {
              abortSignal: signal,
            });
            removed++;
          } catch (error) {
            if (!isNoSuchUpload(error)) throw error; // else completed or aborted since it was listed
          }
        }
        if (page.IsTruncated !== true) return removed;
        markers = { KeyMarker: page.NextKeyMarker, UploadIdMarker: page.NextUploadIdMarker };
      }
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw describeFailure(error, `discarding unfinished uploads under "${prefix}"`, {
        ...this.#context(at),
        permissions: DISCARD_PERMISSIONS,
      });
    }
  }

  async close(): Promise<void> {
    this.#client.destroy();
  }

  /** `s3://bucket/prefix`, where a scope's objects live. */
  #homeOf(at: Location): string {
    return `s3://${at.bucket}/${at.prefix}`;
  }

  #locate(scope: BackendScope | undefined): Location {
    const bucket = scope?.bucket === undefined || scope.bucket === '' ? this.#options.bucket : scope.bucket;
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{2,254}$/.test(bucket)) {
      throw new UnsupportedScopeError(
        MODULE,
        `${JSON.stringify(bucket)} is not a bucket name: use 3 to 255 letters, digits, ".", "-" or "_" ` +
          '(in config.Bucket or BACKUP_S3_BUCKET)',
      );
    }
    const path = scope?.path === undefined || scope.path === '' ? this.#options.path : scope.path;
    return { bucket, prefix: keyPrefix(MODULE, path) };
  }

  #objectKey(at: Location, key: string): string {
    assertSafeKey(key);
    return `${at.prefix}${key}`;
  }

  #context(at: Location) {
    return {
      target: `bucket "${at.bucket}" at ${this.#options.endpoint}`,
      region: this.#options.region,
      credentials: this.#credentials,
    };
  }

  /**
   * Runs one SDK call, turning its failure into an error that says what to check; `key`, when given,
   * turns S3's "no such key" into `NotFoundError`.
   */
  async #call<T>(what: string, at: Location, send: () => Promise<T>, key?: string): Promise<T> {
    try {
      return await send();
    } catch (error) {
      if (key !== undefined && isNoSuchKey(error)) throw new NotFoundError(key, this.#homeOf(at)).withCause(error);
      throw describeFailure(error, what, this.#context(at));
    }
  }

  /** Logs once where the credentials come from (a source, never a value). */
  async #logCredentials(at: Location): Promise<void> {
    if (this.#loggedCredentials) return;
    if (!this.#options.staticKeys) {
      const identity = await this.#call('resolving credentials', at, () => this.#client.config.credentials());
      this.#credentials = chainSource(identity);
    }
    this.#loggedCredentials = true;
    this.#options.logger?.info(
      { credentials: this.#credentials, endpoint: this.#options.endpoint, bucket: at.bucket },
      `backup-s3 signs requests with ${this.#credentials}`,
    );
  }
}
