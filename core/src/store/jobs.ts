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
 * Jobs a worker runs at once; more wait their turn. Each running job holds its buffers (a flush its
 * whole log, a compaction a read-ahead per input and its output buffer), so a node whose 32 shards
 * all start compacting as it opens would otherwise hold 32 sets at once (issue 21: a 4 GiB store's
 * node peaked ~190 MiB higher than a 1 GiB one's). One thread runs them either way: waiting costs no
 * throughput, and two keep a short job from queuing behind a long one alone.
 */
const MAX_RUNNING_JOBS = 2;

interface QueuedJob {
  readonly request: Exclude<JobRequest, { kind: 'abort' }>;
  readonly resolve: (value: never) => void;
  readonly reject: (error: Error) => void;
}

/**
 * Runs jobs in one worker thread on the real filesystem, so merging and encoding never hold up reads
 * and writes on the main thread. Shared by every store of the process (see {@link sharedRunner});
 * the worker interleaves up to {@link MAX_RUNNING_JOBS} jobs, each giving way every few thousand
 * entries, and the rest wait in order. Aborting is cooperative: a running job stops at its next
 * turn, closes its files and removes its temporary output; a waiting one is dropped. While no job
 * runs, the worker does not keep the process alive.
 */
class WorkerRunner implements JobRunner {
  #worker: Worker | undefined;
  #nextId = 1;
  readonly #queue: QueuedJob[] = [];
  readonly #running = new Map<number, QueuedJob>();

  flush(job: FlushJob): Promise<FlushResult> {
    return this.#run({ id: this.#nextId++, kind: 'flush', job });
  }

  compact(job: CompactionJob, signal?: AbortSignal): Promise<CompactionResult> {
    if (signal?.aborted) return Promise.reject(new JobAborted());
    const id = this.#nextId++;
    const abort = () => {
      const queued = this.#queue.findIndex((waiting) => waiting.request.id === id);
      if (queued >= 0) this.#queue.splice(queued, 1)[0]?.reject(new JobAborted());
      else this.#worker?.postMessage({ id, kind: 'abort' } satisfies JobRequest);
    };
    signal?.addEventListener('abort', abort, { once: true });
    return this.#run<CompactionResult>({ id, kind: 'compact', job }).finally(() =>
      signal?.removeEventListener('abort', abort),
    );
  }

  #run<T>(request: QueuedJob['request']): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ request, resolve: resolve as (value: never) => void, reject });
      this.#pump();
    });
  }

  /** Starts waiting jobs while fewer than MAX_RUNNING_JOBS run. */
  #pump(): void {
    while (this.#running.size < MAX_RUNNING_JOBS && this.#queue.length > 0) {
      const next = this.#queue.shift() as QueuedJob;
      const worker = this.#start();
      worker.ref();
      this.#running.set(next.request.id, next);
      worker.postMessage(next.request);
    }
  }

  #start(): Worker {
    if (this.#worker !== undefined) return this.#worker;
    const worker = new Worker(new URL('./job-worker.js', import.meta.url));
    worker.on('message', (response: JobResponse) => {
      const running = this.#running.get(response.id);
      if (running === undefined) return;
      this.#running.delete(response.id);
      if (response.ok) running.resolve(response.result as never);
      else running.reject(response.aborted ? new JobAborted() : revive(response.error));
      this.#pump();
      if (this.#running.size === 0) worker.unref();
    });
    worker.on('error', (error) => {
      // The worker died: fail what it was running; waiting jobs start on a new one.
      if (this.#worker === worker) this.#worker = undefined;
      for (const { reject } of this.#running.values()) reject(error);
      this.#running.clear();
      this.#pump();
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
