import type { SerializedError } from '../errors.js';
import type { CompressionLevel, PackedChunk, PackFile, UnpackTarget } from './chunk-codec.js';

/**
 * What the node and a chunk worker say to each other. A worker runs one job at a time. Bytes flow
 * in batches of about a megabyte, transferred (not copied), and only when the receiving side has
 * granted a credit, so neither side buffers more than a few batches.
 */

/** The node to a worker. */
export type ToWorker =
  | { readonly type: 'pack'; readonly files: readonly PackFile[]; readonly compression: CompressionLevel }
  | { readonly type: 'unpack'; readonly target: UnpackTarget }
  /** Pack: the node can take one more batch. */
  | { readonly type: 'credit' }
  /** Unpack: a batch of the chunk's bytes. */
  | { readonly type: 'data'; readonly pieces: readonly Uint8Array[] }
  /** Unpack: the chunk's bytes are all sent. */
  | { readonly type: 'end' }
  | { readonly type: 'abort' };

/** A worker to the node. `fileBytes` counts file bytes read or written since the last message. */
export type FromWorker =
  /** Pack: a batch of the chunk's bytes. */
  | { readonly type: 'data'; readonly pieces: readonly Uint8Array[]; readonly fileBytes: number }
  /** Unpack: the worker took a batch and can take one more. */
  | { readonly type: 'credit'; readonly fileBytes: number }
  | { readonly type: 'packed'; readonly result: PackedChunk; readonly fileBytes: number }
  | { readonly type: 'unpacked'; readonly extracted: readonly string[]; readonly fileBytes: number }
  /** The job failed: the error as errors.ts serializes it, revived on the node's side by its code. */
  | { readonly type: 'error'; readonly error: SerializedError };

/** `bytes` as a view that owns its whole ArrayBuffer, so it can be transferred: copied if it does not. */
export function transferable(bytes: Uint8Array): Uint8Array {
  const owns =
    bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer;
  return owns ? bytes : Uint8Array.prototype.slice.call(bytes);
}
