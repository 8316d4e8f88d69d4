import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { serializeError } from '../errors.js';
import { PIECE_BYTES, packChunk, unpackChunk } from './chunk-codec.js';
import { type FromWorker, type ToWorker, transferable } from './worker-messages.js';

/**
 * A chunk worker's thread: packs and unpacks chunks (chunk-codec.ts) for the node, one job at a
 * time, so hashing and compression use other cores than the one serving requests. See
 * worker-messages.ts for the protocol and chunk-workers.ts for the node's side.
 */

/** Niceness of a chunk worker's thread (0 is the default, 19 the lowest priority). */
const WORKER_NICENESS = 19;

const port = parentPort;
if (port === null) throw new TypeError('chunk-worker.js runs as a worker thread');

/**
 * Runs this thread at a lower priority than the thread serving requests, so a backup takes the CPU
 * the node leaves idle and a busy node's writers barely notice it. On Linux `setpriority` on a
 * thread id changes that thread alone; elsewhere (or in a container that forbids it) the worker
 * keeps the process's priority.
 */
function lowerThreadPriority(): void {
  try {
    const threadId = Number(readlinkSync('/proc/thread-self').split('/').at(-1));
    if (Number.isInteger(threadId)) setPriority(threadId, WORKER_NICENESS);
  } catch {
    // not Linux, or not allowed: same priority as the node
  }
}

const post = (message: FromWorker, transfer: readonly Uint8Array[] = []) =>
  port.postMessage(
    message,
    transfer.map((piece) => piece.buffer as ArrayBuffer),
  );

/** The running job's state: credits granted by the node, unpack input, abort. */
class Job {
  readonly abort = new AbortController();
  fileBytes = 0;
  #credits = 0;
  readonly #input: Uint8Array[][] = [];
  #ended = false;
  #wake: (() => void) | undefined;

  /** Counts file bytes, to be reported with the next message. */
  readonly count = (bytes: number) => {
    this.fileBytes += bytes;
  };

  /** The file bytes counted since the last report. */
  takeFileBytes(): number {
    const bytes = this.fileBytes;
    this.fileBytes = 0;
    return bytes;
  }

  receive(message: ToWorker): void {
    if (message.type === 'credit') this.#credits++;
    else if (message.type === 'data') this.#input.push([...message.pieces]);
    else if (message.type === 'end') this.#ended = true;
    else if (message.type === 'abort') this.abort.abort(new Error('aborted'));
    this.#wake?.();
  }

  async #wait(): Promise<void> {
    this.abort.signal.throwIfAborted();
    await new Promise<void>((resolve) => {
      this.#wake = resolve;
    });
    this.#wake = undefined;
    this.abort.signal.throwIfAborted();
  }

  /** Waits for a credit from the node and uses it. */
  async credit(): Promise<void> {
    while (this.#credits === 0) await this.#wait();
    this.#credits--;
  }

  /** The chunk's bytes as the node sends them; asks for the next batch as each one is taken. */
  async *input(): AsyncIterable<Uint8Array> {
    for (;;) {
      const pieces = this.#input.shift();
      if (pieces !== undefined) {
        post({ type: 'credit', fileBytes: this.takeFileBytes() });
        yield* pieces;
      } else if (this.#ended) return;
      else await this.#wait();
    }
  }
}

lowerThreadPriority();

let job: Job | undefined;

async function pack(current: Job, message: Extract<ToWorker, { type: 'pack' }>): Promise<void> {
  const chunk = packChunk(message.files, message.compression, current.count);
  try {
    let batch: Uint8Array[] = [];
    let bytes = 0;
    const send = async () => {
      await current.credit();
      post({ type: 'data', pieces: batch, fileBytes: current.takeFileBytes() }, batch);
      batch = [];
      bytes = 0;
    };
    for (;;) {
      current.abort.signal.throwIfAborted();
      const next = await chunk.next();
      if (next.done === true) {
        if (batch.length > 0) await send();
        post({ type: 'packed', result: next.value, fileBytes: current.takeFileBytes() });
        return;
      }
      batch.push(transferable(next.value));
      bytes += next.value.length;
      if (bytes >= PIECE_BYTES) await send();
    }
  } finally {
    await chunk.return(undefined as never).catch(() => {}); // closes the files if it stopped early
  }
}

async function unpack(current: Job, message: Extract<ToWorker, { type: 'unpack' }>): Promise<void> {
  const extracted = await unpackChunk(current.input(), message.target, current.count);
  post({ type: 'unpacked', extracted, fileBytes: current.takeFileBytes() });
}

port.on('message', (message: ToWorker) => {
  if (message.type !== 'pack' && message.type !== 'unpack') {
    job?.receive(message);
    return;
  }
  const current = new Job();
  job = current;
  const run = message.type === 'pack' ? pack(current, message) : unpack(current, message);
  run
    .catch((error: unknown) => post({ type: 'error', error: serializeError(error) }))
    .finally(() => {
      if (job === current) job = undefined;
    });
});
