import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  BackupCopySourceStateError,
  BackupCopyTargetError,
  BackupCopyVerifyError,
  BackupCorruptError,
  BackupNotFoundError,
  InvalidBackupIdError,
} from '../errors.js';
import type { BackendScope, BackupBackend } from '../provider/backend.js';
import { validateGlobalDescriptor, validateNodeDescriptor } from './descriptor-validation.js';
import { isBackupId, MAX_BACKUP_ID_LENGTH, parseDescriptor, readObject } from './descriptors.js';
import { BackupHome } from './home.js';
import { runPool } from './pool.js';

/** One end of a copy: an enabled backend, and where in it the backup lives. */
export interface CopyEnd {
  /** The module name, for messages (`backup-s3`). */
  readonly name: string;
  readonly backend: BackupBackend;
  /** The bucket and path to use instead of the module's configured ones. */
  readonly scope?: BackendScope | undefined;
}

/** How far a copy has come. Bytes count every object, copied or found already there and verified. */
export interface CopyProgress {
  readonly doneBytes: number;
  readonly totalBytes: number;
  readonly objects: number;
  readonly doneObjects: number;
}

/** Options of {@link copyBackup}. */
export interface CopyOptions {
  readonly id: string;
  readonly from: CopyEnd;
  readonly to: CopyEnd;
  /** Chunks moved at once (default 4). */
  readonly concurrency?: number | undefined;
  /** Stops the copy; objects already copied stay, and a later copy skips them. */
  readonly signal?: AbortSignal | undefined;
  readonly onProgress?: ((progress: CopyProgress) => void) | undefined;
}

/** What a finished copy did. */
export interface CopyResult {
  /** The backup's home in the target, as API responses give `path`. */
  readonly path: string;
  readonly objects: number;
  readonly bytes: number;
  /** Objects written by this copy. */
  readonly copied: number;
  /** Objects an interrupted copy had already written, verified and left as they were. */
  readonly skipped: number;
}

/** An object of the backup, with what it must hash to. */
interface PlannedObject {
  readonly key: string;
  readonly size: number;
  readonly sha256: string;
  /** The bytes, for descriptors (read up front); chunks stream from the source. */
  readonly bytes?: Buffer;
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** The descriptor bytes under `key` with their size and hash; throws when missing. */
async function descriptorObject(
  end: CopyEnd,
  home: BackupHome,
  key: string,
): Promise<PlannedObject & { readonly bytes: Buffer }> {
  const bytes = await readObject(end.backend, key, end.scope ?? {});
  if (bytes === undefined) {
    throw new BackupNotFoundError(home.id, `${end.backend.homePath(home.id, end.scope)}/${home.relative(key)}`);
  }
  return { key, size: bytes.length, sha256: sha256(bytes), bytes };
}

/**
 * Every object of a finished backup in the order a copy writes them: the chunks, then each node's
 * descriptor, then the global descriptor, so the target holds a backup only once all of it is there.
 */
async function plan(from: CopyEnd, id: string): Promise<PlannedObject[]> {
  const home = new BackupHome(id);
  const global = await descriptorObject(from, home, home.globalKey);
  const descriptor = validateGlobalDescriptor(global.key, id, await parseDescriptor(global.key, global.bytes));
  if (descriptor.status !== 'SUCCESS') {
    throw new BackupCopySourceStateError(id, from.name, descriptor.status, descriptor.error);
  }
  const chunks: PlannedObject[] = [];
  const nodes: PlannedObject[] = [];
  for (const node of Object.keys(descriptor.nodes)) {
    const object = await descriptorObject(from, home, home.node(node).descriptorKey);
    nodes.push(object);
    for (const cls of (
      await validateNodeDescriptor(object.key, id, node, await parseDescriptor(object.key, object.bytes))
    ).classes) {
      for (const chunk of Object.values(cls.chunks)) {
        chunks.push({ key: home.key(chunk.key), size: chunk.size, sha256: chunk.sha256 });
      }
    }
  }
  return [...chunks, ...nodes, global];
}

/**
 * Passes `source` through, failing at its end (before the consumer sees the end) when its size or
 * SHA-256 differs from `expected`: a backend writing it then rejects and keeps nothing.
 */
async function* checked(
  source: AsyncIterable<Uint8Array>,
  expected: PlannedObject,
  fail: (problem: string) => Error,
): AsyncGenerator<Uint8Array> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const piece of source) {
    size += piece.length;
    // At the first byte too many, not at the end: a hostile source may stream for ever.
    if (size > expected.size) throw fail(`it is longer than the ${expected.size} bytes the backup descriptor says`);
    hash.update(piece);
    yield piece;
  }
  if (size !== expected.size) throw fail(`it is ${size} bytes, the backup descriptor says ${expected.size}`);
  const digest = hash.digest('hex');
  if (digest !== expected.sha256) {
    throw fail(`it does not match its checksum (sha256 ${digest}, expected ${expected.sha256})`);
  }
}

/** A target object that reads back different from the source: not an I/O failure. */
class Mismatch extends Error {}

/** Why the target's copy of `object` is not right, or undefined when it is byte for byte. */
async function targetProblem(to: CopyEnd, object: PlannedObject, signal: AbortSignal): Promise<string | undefined> {
  const stream = await to.backend.read(object.key, { scope: to.scope, signal });
  try {
    for await (const piece of checked(stream, object, (problem) => new Mismatch(problem))) void piece;
    return undefined;
  } catch (error) {
    if (error instanceof Mismatch) return error.message;
    throw error;
  }
}

/**
 * Copies a finished backup from one backend to another, object by object, streamed.
 *
 * Every chunk is checked against the SHA-256 and size its node descriptor records while it streams
 * (a damaged source object fails the copy and is not written), and every object is read back from the
 * target and checked again. The global descriptor goes last, so an interrupted copy never looks like
 * a backup in the target; running the copy again skips the objects already there and verified.
 *
 * @throws BackupNotFoundError when the source has no such backup.
 * @throws BackupCopySourceStateError when the source backup is not SUCCESS.
 * @throws BackupCopyTargetError when the target already holds a backup of that id, or is the source.
 * @throws BackupCorruptError when a source object does not match its descriptor.
 * @throws BackupCopyVerifyError when an object reads back from the target differently.
 */
export async function copyBackup(options: CopyOptions): Promise<CopyResult> {
  const { id, from, to } = options;
  if (!isBackupId(id)) throw new InvalidBackupIdError(id, MAX_BACKUP_ID_LENGTH);
  const target = to.backend.homePath(id, to.scope);
  if (to.backend === from.backend && target === from.backend.homePath(id, from.scope)) {
    throw new BackupCopyTargetError(
      id,
      target,
      'that is where it is copied from; choose another --to, --to-bucket or --to-path',
    );
  }
  const signal = options.signal ?? new AbortController().signal;
  const objects = await plan(from, id);
  const home = new BackupHome(id);
  if ((await readObject(to.backend, home.globalKey, to.scope ?? {})) !== undefined) {
    throw new BackupCopyTargetError(
      id,
      target,
      'a copy never overwrites a backup; delete it there first, or copy to another location',
    );
  }
  const present = new Map<string, number>();
  for await (const info of to.backend.list(home.prefix, { scope: to.scope, signal })) present.set(info.key, info.size);

  const totalBytes = objects.reduce((sum, object) => sum + object.size, 0);
  let doneBytes = 0;
  let doneObjects = 0;
  let skipped = 0;
  const report = () => options.onProgress?.({ doneBytes, totalBytes, objects: objects.length, doneObjects });
  report();

  const copyOne = async (object: PlannedObject) => {
    if (present.get(object.key) === object.size && (await targetProblem(to, object, signal)) === undefined) {
      skipped++;
    } else {
      const source =
        object.bytes === undefined
          ? await from.backend.read(object.key, { scope: from.scope, signal })
          : Readable.from([object.bytes]);
      const body = Readable.from(
        checked(source, object, (problem) => new BackupCorruptError(`${from.name}: ${object.key}`, problem)),
        { objectMode: false },
      );
      await to.backend.write(object.key, body, { scope: to.scope, signal });
      const problem = await targetProblem(to, object, signal);
      if (problem !== undefined) {
        await to.backend.delete(object.key, { scope: to.scope });
        throw new BackupCopyVerifyError(`${to.name}: ${object.key}`, problem);
      }
    }
    doneBytes += object.size;
    doneObjects++;
    report();
  };
  const chunks = objects.filter((object) => object.bytes === undefined);
  await runPool(chunks, options.concurrency ?? 4, signal, copyOne);
  // Descriptors one by one, the global one last: its arrival is what makes the copy a backup.
  for (const object of objects.filter((o) => o.bytes !== undefined)) {
    signal.throwIfAborted();
    await copyOne(object);
  }
  return { path: target, objects: objects.length, bytes: totalBytes, copied: objects.length - skipped, skipped };
}
