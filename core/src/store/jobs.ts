import { Worker } from 'node:worker_threads';
import { StrataError } from '../errors.js';
import { type CompactionJob, type CompactionResult, compactSegments } from './compaction.js';
import { type FlushJob, type FlushResult, flushWal } from './flush.js';
import type { StoreFs } from './vfs.js';

/** Runs a store's background work: flushing a log to a segment, merging segments. */
export interface JobRunner {
  flush(job: FlushJob): Promise<FlushResult>;
  /** Rejects with {@link JobAborted} once `signal` aborts; the temporary output is removed. */
  compact(job: CompactionJob, signal?: AbortSignal): Promise<CompactionResult>;
}

/** The reason an aborted job rejects with. */
export class JobAborted extends Error {
  constructor() {
    super('background job aborted');
    this.name = 'JobAborted';
  }
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Runs jobs on the calling thread, giving way to other work every few thousand entries. Used with an
 * injected filesystem (memfs, fault injection), which a worker thread cannot share.
 */
export function inlineRunner(fs: StoreFs): JobRunner {
  return {
    flush: (job) => flushWal(fs, job, nextTurn),
    async compact(job, signal) {
      try {
        return await compactSegments(fs, job, nextTurn, signal);
      } catch (error) {
        throw signal?.aborted ? new JobAborted() : error;
      }
    },
  };
}

/** A message to the worker, and its answer. */
export type JobRequest =
  | { id: number; kind: 'flush'; job: FlushJob }
  | { id: number; kind: 'compact'; job: CompactionJob }
  | { id: number; kind: 'abort' };
export type JobResponse =
  | { id: number; ok: true; result: FlushResult | CompactionResult }
  | { id: number; ok: false; aborted: boolean; error: { message: string; code?: string; statusCode?: number } };

/** An error from the worker as the main thread sees it: Strata errors keep their code and status. */
function revive({ message, code, statusCode }: { message: string; code?: string; statusCode?: number }): Error {
  if (code?.startsWith('STRATA_')) return new StrataError(code, statusCode ?? 500, message);
  return Object.assign(new Error(message), code === undefined ? {} : { code });
}

/**
 * Runs jobs in one worker thread on the real filesystem, so merging and encoding never hold up reads
 * and writes on the main thread. Shared by every store of the process (see {@link sharedRunner});
 * the worker interleaves concurrent jobs, each giving way every few thousand entries. Aborting is
 * cooperative: the job stops at its next turn, closes its files and removes its temporary output.
 * While no job runs, the worker does not keep the process alive.
 */
class WorkerRunner implements JobRunner {
  #worker: Worker | undefined;
  #nextId = 1;
  readonly #waiting = new Map<number, { resolve: (value: never) => void; reject: (error: Error) => void }>();

  flush(job: FlushJob): Promise<FlushResult> {
    return this.#run({ id: this.#nextId++, kind: 'flush', job });
  }

  compact(job: CompactionJob, signal?: AbortSignal): Promise<CompactionResult> {
    if (signal?.aborted) return Promise.reject(new JobAborted());
    const id = this.#nextId++;
    const abort = () => this.#worker?.postMessage({ id, kind: 'abort' } satisfies JobRequest);
    signal?.addEventListener('abort', abort, { once: true });
    return this.#run<CompactionResult>({ id, kind: 'compact', job }).finally(() =>
      signal?.removeEventListener('abort', abort),
    );
  }

  #run<T>(request: JobRequest): Promise<T> {
    const worker = this.#start();
    worker.ref();
    return new Promise<T>((resolve, reject) => {
      this.#waiting.set(request.id, { resolve: resolve as (value: never) => void, reject });
      worker.postMessage(request);
    });
  }

  #start(): Worker {
    if (this.#worker !== undefined) return this.#worker;
    const worker = new Worker(new URL('./job-worker.js', import.meta.url));
    worker.on('message', (response: JobResponse) => {
      const waiting = this.#waiting.get(response.id);
      if (waiting === undefined) return;
      this.#waiting.delete(response.id);
      if (this.#waiting.size === 0) worker.unref();
      if (response.ok) waiting.resolve(response.result as never);
      else waiting.reject(response.aborted ? new JobAborted() : revive(response.error));
    });
    worker.on('error', (error) => {
      // The worker died: fail what it was doing; the next job starts a new one.
      if (this.#worker === worker) this.#worker = undefined;
      for (const { reject } of this.#waiting.values()) reject(error);
      this.#waiting.clear();
    });
    this.#worker = worker;
    return worker;
  }
}

const shared = { flush: new WorkerRunner(), compaction: new WorkerRunner() };

/**
 * The process-wide worker runner for `kind`: one thread for flushes and one for compactions, shared
 * by all stores, so a node with many shards does not start threads per shard, and a flush never
 * waits behind a long compaction.
 */
export function sharedRunner(kind: 'flush' | 'compaction'): JobRunner {
  return shared[kind];
}
