import { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { reviveError } from '../errors.js';
import {
  type CompressionLevel,
  type PackedChunk,
  type PackFile,
  PIECE_BYTES,
  type UnpackTarget,
} from './chunk-codec.js';
import { type FromWorker, transferable } from './worker-messages.js';

const WORKER_URL = new URL('./chunk-worker.js', import.meta.url);

/** Unpack batches the node may send ahead of the worker. */
const UNPACK_CREDITS = 2;

/**
 * The node's side of the chunk workers: a few threads, so SHA-256 and gzip run on other cores while
 * this thread keeps serving requests and talks to the provider. One job per worker at a time; a job
 * started while every worker is busy waits for one.
 */
export class ChunkWorkers {
  readonly #idle: Worker[];
  readonly #all: Worker[];
  /** Jobs waiting for a worker, first come first served. */
  readonly #waiting: Array<{ take(worker: Worker): void; fail(error: Error): void }> = [];

  private constructor(workers: Worker[]) {
    this.#all = workers;
    this.#idle = [...workers];
  }

  static start(count: number): ChunkWorkers {
    return new ChunkWorkers(Array.from({ length: count }, () => new Worker(WORKER_URL)));
  }

  /**
   * Packs `files` into a chunk in a worker, once one is free. `body` streams the chunk's bytes (for
   * `backend.write`); `packed` resolves with its checksum once the last byte is read, and the worker
   * is then free for the next job, whatever the provider still does with the bytes. Destroying
   * `body` or aborting `signal` stops the worker.
   */
  async pack(
    files: readonly PackFile[],
    compression: CompressionLevel,
    signal: AbortSignal,
    onFileBytes: (bytes: number) => void,
  ): Promise<{ body: Readable; packed: Promise<PackedChunk> }> {
    const worker = await this.#take(signal);
    let ended = false;
    const body = new Readable({
      highWaterMark: PIECE_BYTES,
      read: () => {
        if (!ended) worker.postMessage({ type: 'credit' });
      },
      destroy: (error, callback) => {
        if (!ended) worker.postMessage({ type: 'abort' });
        callback(error);
      },
    });
    const packed = this.#run<PackedChunk>(worker, signal, (message, resolve, reject) => {
      if (message.type === 'data') {
        onFileBytes(message.fileBytes);
        for (const piece of message.pieces) body.push(Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength));
        return;
      }
      ended = message.type === 'packed' || message.type === 'error';
      if (message.type === 'packed') {
        onFileBytes(message.fileBytes);
        body.push(null);
        resolve(message.result);
      } else if (message.type === 'error') reject(reviveError(message.error));
    });
    // The consumer sees the failure on `body`; `packed` reports it either way, so an unread body's
    // error is not an uncaught one.
    body.on('error', () => {});
    packed.catch((error: unknown) => body.destroy(error as Error));
    worker.postMessage({ type: 'pack', files, compression });
    return { body, packed };
  }

  /**
   * Unpacks a chunk read from `source` in a worker, into staging, checking every checksum. Resolves
   * with the paths it extracted; rejects with the worker's error (a `BackupCorruptError` for damage).
   */
  async unpack(
    source: AsyncIterable<Uint8Array>,
    target: UnpackTarget,
    signal: AbortSignal,
    onFileBytes: (bytes: number) => void,
  ): Promise<readonly string[]> {
    const worker = await this.#take(signal);
    let credits = UNPACK_CREDITS;
    let granted: (() => void) | undefined;
    const unpacked = this.#run<readonly string[]>(worker, signal, (message, resolve, reject) => {
      if (message.type === 'credit') {
        onFileBytes(message.fileBytes);
        credits++;
        granted?.();
      } else if (message.type === 'unpacked') {
        onFileBytes(message.fileBytes);
        resolve(message.extracted);
      } else if (message.type === 'error') reject(reviveError(message.error));
    });
    const finished = unpacked.then(
      () => true,
      () => true,
    );
    worker.postMessage({ type: 'unpack', target });

    let batch: Uint8Array[] = [];
    let bytes = 0;
    /** Sends the batch once the worker has room; false when the job ended meanwhile. */
    const send = async (): Promise<boolean> => {
      while (credits === 0) {
        const credit = new Promise<boolean>((resolve) => {
          granted = () => resolve(false);
        });
        if (await Promise.race([credit, finished])) return false;
      }
      credits--;
      const pieces = batch.length === 1 ? batch.map(transferable) : [transferable(Buffer.concat(batch))];
      worker.postMessage(
        { type: 'data', pieces },
        pieces.map((piece) => piece.buffer as ArrayBuffer),
      );
      batch = [];
      bytes = 0;
      return true;
    };
    const feed = async () => {
      for await (const piece of source) {
        batch.push(piece);
        bytes += piece.length;
        if (bytes >= PIECE_BYTES && !(await send())) return;
      }
      if ((batch.length === 0 || (await send())) && !signal.aborted) worker.postMessage({ type: 'end' });
    };
    // The worker's outcome decides; a feed that fails (the provider's stream broke) aborts the job.
    const feeding = feed().catch((error: unknown) => {
      worker.postMessage({ type: 'abort' });
      throw error;
    });
    const [result] = await Promise.all([unpacked, feeding]);
    return result;
  }

  /** Stops every worker. */
  async close(): Promise<void> {
    await Promise.all(this.#all.map((worker) => worker.terminate()));
  }

  /** An idle worker, waiting for one if all are busy; rejects if `signal` aborts first. */
  #take(signal: AbortSignal): Promise<Worker> {
    signal.throwIfAborted();
    const worker = this.#idle.pop();
    if (worker !== undefined) return Promise.resolve(worker);
    return new Promise<Worker>((resolve, reject) => {
      const waiter = {
        take: (worker: Worker) => {
          signal.removeEventListener('abort', onAbort);
          resolve(worker);
        },
        fail: (error: Error) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      const onAbort = () => {
        this.#waiting.splice(this.#waiting.indexOf(waiter), 1);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(waiter);
    });
  }

  /** Hands `worker` to the first waiting job, or makes it idle. */
  #release(worker: Worker): void {
    const waiter = this.#waiting.shift();
    if (waiter === undefined) this.#idle.push(worker);
    else waiter.take(worker);
  }

  /** A worker died: once none is left, the jobs waiting for one fail as the last job did. */
  #lost(worker: Worker, error: Error): void {
    this.#all.splice(this.#all.indexOf(worker), 1);
    if (this.#all.length > 0) return;
    for (const waiter of this.#waiting.splice(0)) waiter.fail(error);
  }

  /**
   * Runs one job on `worker`: `handle` sees its messages until it resolves or rejects. An abort of
   * `signal` rejects at once with the signal's reason and tells the worker to stop; the worker is
   * idle again only once it has reported the end of its job. A worker that dies rejects.
   */
  #run<T>(
    worker: Worker,
    signal: AbortSignal,
    handle: (message: FromWorker, resolve: (value: T) => void, reject: (error: Error) => void) => void,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const release = (idle: boolean) => {
        worker.off('message', listener);
        worker.off('error', onError);
        worker.off('exit', onExit);
        signal.removeEventListener('abort', onAbort);
        if (idle) this.#release(worker);
      };
      const listener = (message: FromWorker) =>
        handle(
          message,
          (value) => {
            release(true);
            resolve(value);
          },
          (error) => {
            release(true);
            reject(signal.aborted ? signal.reason : error);
          },
        );
      const onError = (error: Error) => {
        release(false);
        this.#lost(worker, error);
        reject(error);
      };
      const onExit = (code: number) => {
        const error = new Error(`a chunk worker stopped (exit code ${code})`);
        release(false);
        this.#lost(worker, error);
        reject(error);
      };
      const onAbort = () => {
        worker.postMessage({ type: 'abort' });
        reject(signal.reason);
      };
      worker.on('message', listener);
      worker.on('error', onError);
      worker.on('exit', onExit);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}
