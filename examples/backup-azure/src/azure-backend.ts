import { randomBytes } from 'node:crypto';
import { addAbortSignal, Readable } from 'node:stream';
import type { BlobServiceClient, ContainerClient } from '@azure/storage-blob';
import {
  assertSafeKey,
  type BackendScope,
  type BackupBackend,
  type CallOptions,
  keyPrefix,
  NotFoundError,
  type ObjectInfo,
  resumingDownload,
  UnsupportedScopeError,
} from '@strata/core';
import { describeFailure, type FailureContext, isBlobNotFound, isBrokenConnection } from './failure.js';

const MODULE = 'backup-azure';
/** The access check's probe blob. */
const PROBE_PREFIX = '.strata-access-check-';
/** Azure's container name rule: 3 to 63 lowercase letters, digits and single hyphens, no hyphen at the ends. */
const CONTAINER_NAME = /^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$/;
/** Attempts to resume a broken download without receiving a byte in between. */
const RESUME_ATTEMPTS = 5;

/** Options of {@link AzureBackend}. */
export interface AzureBackendOptions {
  readonly service: BlobServiceClient;
  /** The blob service URL, without a trailing `/`. */
  readonly serviceUrl: string;
  /** Where credentials come from, in words, for messages. */
  readonly credentials: string;
  /** BACKUP_AZURE_CONTAINER. */
  readonly container: string;
  /** BACKUP_AZURE_PATH; empty for none. */
  readonly path: string;
  /** AZURE_BLOCK_SIZE: bytes per staged block of an upload. */
  readonly blockSize: number;
  /** AZURE_CONCURRENCY: blocks in flight per upload. */
  readonly concurrency: number;
}

/** Where one call goes: a container and a normalised name prefix (empty or ending in `/`). */
interface Location {
  readonly container: ContainerClient;
  readonly prefix: string;
}

/**
 * A backup backend over an Azure Blob Storage container. Keys map to block blob names under the
 * configured prefix. A write stages blocks and commits the block list last, so a blob appears only
 * whole; a failed or cancelled write commits nothing, and Azure discards uncommitted blocks after a
 * week. Downloads resume after a broken connection, pinned to the blob's ETag.
 *
 * It has no `discardPartialWrites`: what a killed writer leaves, uncommitted blocks, Azure discards
 * by itself a week after the last one was staged, so their cost is bounded. No call drops them and
 * nothing else: each acts on the blob under the key (commit a block list, put or delete the blob),
 * which for an overwrite would replace or remove the finished object.
 */
export class AzureBackend implements BackupBackend {
  readonly #options: AzureBackendOptions;

  constructor(options: AzureBackendOptions) {
    this.#options = options;
  }

  homePath(backupId: string, scope?: BackendScope): string {
    assertSafeKey(backupId);
    const at = this.#locate(scope);
    return `${this.#options.serviceUrl}/${at.container.containerName}/${at.prefix}${backupId}`;
  }

  async checkAccess(options?: CallOptions): Promise<void> {
    const at = this.#locate(options?.scope);
    await this.#call('reading the container', at, () => at.container.getProperties());
    options?.signal?.throwIfAborted();
    const probe = at.container.getBlockBlobClient(`${at.prefix}${PROBE_PREFIX}${randomBytes(8).toString('hex')}`);
    await this.#call('writing the access check probe', at, () => probe.upload(Buffer.alloc(0), 0));
    try {
      await this.#call('reading the access check probe', at, () => probe.getProperties());
      await this.#call('listing the container', at, () =>
        at.container.listBlobsFlat({ prefix: probe.name }).byPage({ maxPageSize: 1 }).next(),
      );
    } finally {
      await this.#call('deleting the access check probe', at, () => probe.deleteIfExists());
    }
  }

  async write(key: string, body: Readable, options?: CallOptions): Promise<number> {
    const at = this.#locate(options?.scope);
    const blob = at.container.getBlockBlobClient(this.#blobName(at, key));
    const signal = options?.signal;
    signal?.throwIfAborted();
    const { blockSize, concurrency } = this.#options;
    const source = body[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>;
    let written = 0;
    let sourceError: { error: unknown } | undefined;
    const next = async () => {
      // The SDK stops sending on abort but goes on reading the source: stop it here.
      signal?.throwIfAborted();
      try {
        const step = await source.next();
        if (step.done !== true) written += step.value.length;
        return step;
      } catch (error) {
        sourceError = { error };
        throw error;
      }
    };
    const headers = { blobHTTPHeaders: { blobContentType: 'application/octet-stream' }, abortSignal: signal };
    try {
      // An object that fits in one block goes up in one Put Blob: atomic, and safe against a concurrent
      // write of the same key (staged blocks are not: the first commit discards the other's blocks).
      const first: Uint8Array[] = [];
      let ended = false;
      while (written < blockSize) {
        const step = await next();
        if (step.done === true) {
          ended = true;
          break;
        }
        first.push(step.value);
      }
      if (ended) {
        const whole = Buffer.concat(first);
        await blob.upload(whole, whole.length, headers);
      } else {
        const rest = Readable.from(
          (async function* () {
            yield* first;
            for (let step = await next(); step.done !== true; step = await next()) yield step.value;
          })(),
          { objectMode: false },
        );
        // uploadStream holds at most `concurrency` blocks (plus one being filled) and commits the
        // block list only after the source ends: until then readers see the old blob or none.
        await blob.uploadStream(rest, blockSize, concurrency, headers);
      }
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (sourceError !== undefined) throw sourceError.error;
      throw describeFailure(error, `writing "${key}"`, this.#context(at));
    } finally {
      await source.return?.();
    }
    return written;
  }

  async read(key: string, options?: CallOptions): Promise<Readable> {
    const at = this.#locate(options?.scope);
    const blob = at.container.getBlobClient(this.#blobName(at, key));
    const signal = options?.signal;
    const context = this.#context(at);
    const properties = await this.#call(`reading "${key}"`, at, () => blob.getProperties({ abortSignal: signal }), key);
    const size = properties.contentLength ?? 0;
    // Every request of the download reads this version: a resumed one never mixes two.
    const conditions = { ifMatch: properties.etag };
    const open = async (offset: number): Promise<AsyncIterable<Uint8Array>> => {
      if (offset >= size) return Readable.from([]);
      // The SDK's own retries of a broken body are off: resumingDownload does it, counting progress.
      const response = await blob.download(offset, undefined, { conditions, abortSignal: signal, maxRetryRequests: 0 });
      return response.readableStreamBody as AsyncIterable<Uint8Array>;
    };
    const stream = Readable.from(
      (async function* () {
        try {
          yield* resumingDownload(await open(0), {
            size,
            maxAttempts: RESUME_ATTEMPTS,
            signal,
            isResumable: isBrokenConnection,
            reopen: open,
          });
        } catch (error) {
          if (signal?.aborted) throw signal.reason;
          if (isBlobNotFound(error)) throw new NotFoundError(key, context.target).withCause(error);
          throw describeFailure(error, `reading "${key}"`, context);
        }
      })(),
      { objectMode: false },
    );
    return signal === undefined ? stream : addAbortSignal(signal, stream);
  }

  async *list(prefix: string, options?: CallOptions): AsyncIterable<ObjectInfo> {
    const at = this.#locate(options?.scope);
    const pages = at.container.listBlobsFlat({ prefix: `${at.prefix}${prefix}` }).byPage({ maxPageSize: 1000 });
    for (;;) {
      options?.signal?.throwIfAborted();
      const page = await this.#call(`listing "${prefix}"`, at, () => pages.next());
      if (page.done === true) return;
      for (const item of page.value.segment.blobItems) {
        yield { key: item.name.slice(at.prefix.length), size: item.properties.contentLength ?? 0 };
      }
    }
  }

  async delete(key: string, options?: CallOptions): Promise<void> {
    const at = this.#locate(options?.scope);
    const blob = at.container.getBlobClient(this.#blobName(at, key));
    await this.#call(`deleting "${key}"`, at, () => blob.deleteIfExists({ abortSignal: options?.signal }));
  }

  async close(): Promise<void> {}

  #locate(scope: BackendScope | undefined): Location {
    const name = scope?.bucket === undefined || scope.bucket === '' ? this.#options.container : scope.bucket;
    if (!CONTAINER_NAME.test(name)) {
      throw new UnsupportedScopeError(
        MODULE,
        `${JSON.stringify(name)} is not a container name: use 3 to 63 lowercase letters, digits and single "-", ` +
          'starting and ending with a letter or digit (in config.Bucket or BACKUP_AZURE_CONTAINER)',
      );
    }
    const path = scope?.path === undefined || scope.path === '' ? this.#options.path : scope.path;
    return { container: this.#options.service.getContainerClient(name), prefix: keyPrefix(MODULE, path) };
  }

  #blobName(at: Location, key: string): string {
    assertSafeKey(key);
    return `${at.prefix}${key}`;
  }

  #context(at: Location): FailureContext {
    return {
      target: `container "${at.container.containerName}" at ${this.#options.serviceUrl}`,
      credentials: this.#options.credentials,
    };
  }

  /**
   * Runs one SDK call, turning its failure into an error that says what to check; `key`, when given,
   * turns a missing blob into `NotFoundError`.
   */
  async #call<T>(what: string, at: Location, send: () => Promise<T>, key?: string): Promise<T> {
    try {
      return await send();
    } catch (error) {
      const context = this.#context(at);
      if (key !== undefined && isBlobNotFound(error)) throw new NotFoundError(key, context.target).withCause(error);
      throw describeFailure(error, what, context);
    }
  }
}
