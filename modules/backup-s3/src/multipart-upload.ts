import {
  AbortMultipartUploadCommand,
  ChecksumAlgorithm,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  type CompleteMultipartUploadCommandInput,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { isNoSuchUpload } from './failure.js';

/** S3's most parts in one multipart upload. */
export const MAX_PARTS = 10_000;
const CONTENT_TYPE = 'application/octet-stream';

/** Where and how {@link uploadStream} writes. */
export interface UploadTarget {
  readonly client: S3Client;
  readonly bucket: string;
  readonly key: string;
  /** Bytes per part (all but the last). */
  readonly partSize: number;
  /** Parts uploaded at once. */
  readonly concurrency: number;
  readonly signal?: AbortSignal | undefined;
  /** Turns a failed request into the error the upload rejects with. */
  readonly describe: (error: unknown) => Error;
  /** The error for an object that needs more than `maxParts` parts. */
  readonly tooLarge: () => Error;
  /** S3's {@link MAX_PARTS}; lower only to test objects that outgrow it without writing 50 GiB. */
  readonly maxParts?: number;
}

/**
 * `source` cut into parts of exactly `size` bytes (the last one shorter, or empty for an empty
 * source), each copied once into a buffer from `take`. A buffer is taken only when the next part is
 * asked for, so the consumer decides how many exist at once.
 */
async function* fixedParts(
  source: AsyncIterable<Uint8Array>,
  size: number,
  take: () => Buffer,
): AsyncGenerator<Buffer> {
  let part: Buffer | undefined;
  let filled = 0;
  let yielded = false;
  for await (const chunk of source) {
    for (let offset = 0; offset < chunk.length; ) {
      part ??= take();
      const n = Math.min(size - filled, chunk.length - offset);
      part.set(chunk.subarray(offset, offset + n), filled);
      filled += n;
      offset += n;
      if (filled === size) {
        yield part;
        yielded = true;
        part = undefined;
        filled = 0;
      }
    }
  }
  if (filled > 0 || !yielded) yield (part ?? Buffer.alloc(0)).subarray(0, filled);
}

/**
 * Sends CompleteMultipartUpload. An attempt whose answer was lost (a timeout, a reset) may have
 * completed the upload all the same; the SDK's retry then meets NoSuchUpload. The upload is complete
 * if the key now holds an object of the upload's size: chunk keys are new to every backup, so no
 * earlier object can be there.
 */
async function completeUpload(
  client: S3Client,
  input: CompleteMultipartUploadCommandInput,
  size: number,
): Promise<void> {
  try {
    await client.send(new CompleteMultipartUploadCommand(input));
  } catch (error) {
    if (!isNoSuchUpload(error)) throw error;
    const head = await client
      .send(new HeadObjectCommand({ Bucket: input.Bucket, Key: input.Key }))
      .catch(() => undefined);
    if (head?.ContentLength !== size) throw error;
  }
}

/**
 * Streams `source` to one object: a single PutObject when it fits in one part, otherwise a multipart
 * upload with up to `concurrency` parts in flight. It holds at most `partSize x (concurrency + 1)` bytes,
 * reusing part buffers, and copies each byte once. When anything fails (a request after its retries,
 * the source, the signal) the multipart upload is aborted before this rejects, so no parts stay billed.
 * Source errors are rethrown as they are; failed requests go through `describe`.
 *
 * @returns the bytes written
 */
export async function uploadStream(source: AsyncIterable<Uint8Array>, target: UploadTarget): Promise<number> {
  const { client, bucket, key, partSize, signal, maxParts = MAX_PARTS } = target;
  const request = async <T>(pending: Promise<T>): Promise<T> => {
    try {
      return await pending;
    } catch (error) {
      throw signal?.aborted ? signal.reason : target.describe(error);
    }
  };
  const free: Buffer[] = [];
  const parts = fixedParts(source, partSize, () => free.pop() ?? Buffer.allocUnsafe(partSize));
  const first = await parts.next();
  const firstPart = first.done ? Buffer.alloc(0) : first.value;
  if (firstPart.length < partSize) {
    await request(
      client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: firstPart,
          ContentLength: firstPart.length,
          ContentType: CONTENT_TYPE,
        }),
        { abortSignal: signal },
      ),
    );
    return firstPart.length;
  }

  // The multipart requests do not take the signal: a request cut short may still be processed by the
  // server after the upload is aborted, leaving a part stored (AWS says as much). The signal stops the
  // upload between requests instead, once the parts in flight have settled.
  // The SDK computes a CRC32 per part when checksums are on; S3 then needs each one at completion.
  const crc32 = (await client.config.requestChecksumCalculation()) === 'WHEN_SUPPORTED';
  const checksum = crc32 ? { ChecksumAlgorithm: ChecksumAlgorithm.CRC32 } : {};
  const created = await request(
    client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: CONTENT_TYPE, ...checksum })),
  );
  const uploadId = created.UploadId;
  const completed: CompletedPart[] = [];
  const uploadPart = async (number: number, body: Buffer) => {
    const { ETag, ChecksumCRC32 } = await request(
      client.send(
        new UploadPartCommand({
          Bucket: bucket,
          Key: key,
          UploadId: uploadId,
          PartNumber: number,
          Body: body,
          ContentLength: body.length,
          ...checksum,
        }),
      ),
    );
    if (ETag === undefined) throw new Error(`S3 answered part ${number} of "${key}" without an ETag`);
    completed.push({ PartNumber: number, ETag, ChecksumCRC32 });
  };
  const inFlight = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  const throwIfFailed = () => {
    if (failure !== undefined) throw failure.error;
  };
  let written = 0;
  try {
    let data = firstPart;
    for (let number = 1; ; number++) {
      signal?.throwIfAborted();
      if (number > maxParts) throw target.tooLarge();
      written += data.length;
      const body = data;
      const sent: Promise<void> = uploadPart(number, body)
        .then(
          () => void free.push(body),
          (error: unknown) => {
            failure ??= { error };
          },
        )
        .finally(() => inFlight.delete(sent));
      inFlight.add(sent);
      while (inFlight.size >= target.concurrency && failure === undefined) await Promise.race(inFlight);
      throwIfFailed();
      const next = await parts.next();
      if (next.done) break;
      data = next.value;
    }
    await Promise.all(inFlight);
    throwIfFailed();
    signal?.throwIfAborted();
    completed.sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
    await request(
      completeUpload(
        client,
        { Bucket: bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: completed } },
        written,
      ),
    );
    return written;
  } catch (error) {
    // Parts still in flight would outlive an abort sent now; S3 keeps (and bills) such parts.
    await Promise.all(inFlight);
    await parts.return(undefined).catch(() => {});
    await client
      .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }))
      .catch(() => {});
    throw error;
  }
}
