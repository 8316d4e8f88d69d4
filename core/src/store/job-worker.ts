// The worker thread behind WorkerRunner: runs flush and compaction jobs on the real filesystem.
import { parentPort } from 'node:worker_threads';
import { compactSegments } from './compaction.js';
import { flushWal } from './flush.js';
import type { JobRequest, JobResponse } from './jobs.js';
import { realFs } from './vfs.js';

/** Gives the worker's event loop a turn, so an abort message can arrive mid-job. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
const running = new Map<number, AbortController>();

async function run(request: Exclude<JobRequest, { kind: 'abort' }>): Promise<JobResponse> {
  const controller = new AbortController();
  running.set(request.id, controller);
  try {
    const result =
      request.kind === 'flush'
        ? await flushWal(realFs, request.job, nextTurn)
        : await compactSegments(realFs, request.job, nextTurn, controller.signal);
    return { id: request.id, ok: true, result };
  } catch (error) {
    const { message, code, statusCode } = error as { message: string; code?: string; statusCode?: number };
    const details = code === undefined ? {} : statusCode === undefined ? { code } : { code, statusCode };
    return { id: request.id, ok: false, aborted: controller.signal.aborted, error: { message, ...details } };
  } finally {
    running.delete(request.id);
  }
}

parentPort?.on('message', async (request: JobRequest) => {
  if (request.kind === 'abort') {
    running.get(request.id)?.abort();
    return;
  }
  parentPort?.postMessage(await run(request));
});
