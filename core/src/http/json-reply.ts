import { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';
import { TimeSlice } from '../time-slice.js';

/** Serialised items are sent in chunks of about this many characters. */
const CHUNK_CHARS = 64 * 1024;

/**
 * Answers `before` + the JSON array of `items` + `after` (`before` ends inside the array's parent,
 * e.g. `{"objects":`), serialising one item at a time and letting the event loop turn every few
 * milliseconds: JSON.stringify of tens of megabytes at once would hold it as long as parsing them did.
 */
export async function sendJsonArray<T>(
  reply: FastifyReply,
  items: readonly T[],
  toJson: (item: T) => unknown,
  wrap: { readonly before: string; readonly after: string } = { before: '', after: '' },
): Promise<FastifyReply> {
  const slice = new TimeSlice();
  const chunks: Buffer[] = [];
  let text = `${wrap.before}[`;
  for (const [i, item] of items.entries()) {
    text += `${i === 0 ? '' : ','}${JSON.stringify(toJson(item))}`;
    if (text.length >= CHUNK_CHARS) {
      chunks.push(Buffer.from(text));
      text = '';
    }
    if (slice.due) await slice.next();
  }
  chunks.push(Buffer.from(`${text}]${wrap.after}`));
  const length = chunks.reduce((total, chunk) => total + chunk.length, 0);
  return reply.type('application/json; charset=utf-8').header('content-length', length).send(Readable.from(chunks));
}
