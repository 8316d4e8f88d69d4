import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import zstd from 'zstd-napi/binding.js';
import type { CompressionLevel } from '../../src/backup/chunk-codec.js';
import { ChunkWorkers } from '../../src/backup/chunk-workers.js';
import type { FileDescriptor } from '../../src/backup/descriptors.js';
import { BackupCorruptError } from '../../src/errors.js';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** A file of `size` bytes that compresses about 2:1, so compressed chunks span several members or frames. */
function content(size: number): Buffer {
  const bytes = randomBytes(size);
  for (let i = 0; i < size; i += 2) bytes[i] = 0x61;
  return bytes;
}

/** A scratch directory and `count` chunk workers, both gone when the test ends. */
async function started(t: ExecutionContext, count = 1): Promise<{ dir: string; workers: ChunkWorkers }> {
  const dir = await mkdtemp(join(tmpdir(), 'strata-chunk-'));
  const workers = ChunkWorkers.start(count);
  t.teardown(async () => {
    await workers.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { dir, workers };
}

/** What a backup descriptor records of `files`: with their SHA-256 in format 1, without from format 2. */
function descriptorsOf(
  files: ReadonlyArray<{ path: string; bytes: Buffer }>,
  format = 2,
): Record<string, FileDescriptor> {
  return Object.fromEntries(
    files.map((file) => [
      file.path,
      format === 1
        ? { path: file.path, size: file.bytes.length, sha256: sha256(file.bytes) }
        : { path: file.path, size: file.bytes.length },
    ]),
  );
}

async function packed(workers: ChunkWorkers, dir: string, compression: CompressionLevel) {
  const files = [
    { path: 'shard/a.seg', bytes: content(3 * 1024 * 1024 + 17) },
    { path: 'shard/b.seg', bytes: content(0) },
    { path: 'shard/c.seg', bytes: content(4096) },
  ];
  for (const file of files) await writeFile(join(dir, file.path.replace('/', '-')), file.bytes);
  const { body, packed } = await workers.pack(
    files.map((file) => ({ path: file.path, source: join(dir, file.path.replace('/', '-')), size: file.bytes.length })),
    compression,
    new AbortController().signal,
    () => {},
  );
  const pieces: Buffer[] = [];
  for await (const piece of body) pieces.push(piece as Buffer);
  return { files, chunk: Buffer.concat(pieces), result: await packed };
}

test('a chunk packed by a worker is a standard tar.gz that unpacks byte for byte, checksums verified', async (t) => {
  const { dir, workers } = await started(t);
  const { files, chunk, result } = await packed(workers, dir, 'BestSpeed');
  t.is(result.size, chunk.length);
  t.is(result.sha256, sha256(chunk));

  // Several gzip members, one stream to gzip and tar.
  await writeFile(join(dir, 'chunk.tar.gz'), chunk);
  const listed = execFileSync('tar', ['-tzf', join(dir, 'chunk.tar.gz')], { encoding: 'utf8' });
  t.deepEqual(listed.trim().split('\n'), ['shard/a.seg', 'shard/b.seg', 'shard/c.seg']);

  const staging = join(dir, 'staging');
  const descriptors = descriptorsOf(files);
  const extracted = await workers.unpack(
    (async function* () {
      for (let offset = 0; offset < chunk.length; offset += 300_000) yield chunk.subarray(offset, offset + 300_000);
    })(),
    { key: 'chunk-1', size: chunk.length, compression: 'gzip', sha256: result.sha256, files: descriptors, staging },
    new AbortController().signal,
    () => {},
  );
  t.deepEqual([...extracted].sort(), ['shard/a.seg', 'shard/b.seg', 'shard/c.seg']);
  for (const file of files) t.true((await readFile(join(staging, file.path))).equals(file.bytes), file.path);
});

/** The zstd frames `stream` is made of, in order: each one's stored size and the content size it records. */
function framesOf(stream: Buffer): Array<{ size: number; contentSize: number | null }> {
  const frames: Array<{ size: number; contentSize: number | null }> = [];
  for (let offset = 0; offset < stream.length; offset += frames.at(-1)?.size as number) {
    const frame = stream.subarray(offset);
    frames.push({ size: zstd.findFrameCompressedSize(frame), contentSize: zstd.getFrameContentSize(frame) });
  }
  return frames;
}

for (const level of ['ZstdBestSpeed', 'ZstdDefaultCompression', 'ZstdBestCompression'] as const) {
  test(`a ${level} chunk packed by a worker is a tar.zst of several frames that zstd and tar read, and unpacks byte for byte`, async (t) => {
    const { dir, workers } = await started(t);
    const { files, chunk, result } = await packed(workers, dir, level);
    t.is(result.size, chunk.length);
    t.is(result.sha256, sha256(chunk));

    // One frame per MiB of tar stream (3 MiB of files with their headers: 4 frames), each recording
    // its content size; `zstd -t` checks each frame's content checksum.
    const frames = framesOf(chunk);
    t.is(frames.length, 4);
    t.is(
      frames.reduce((sum, frame) => sum + (frame.contentSize as number), 0),
      3 * 512 + (3 * 1024 * 1024 + 512) + 4096 + 1024,
      'the tar stream: three headers, the files padded to 512 bytes, two end blocks',
    );
    await writeFile(join(dir, 'chunk.tar.zst'), chunk);
    execFileSync('zstd', ['-tq', join(dir, 'chunk.tar.zst')]);
    const listed = execFileSync('sh', ['-c', `zstd -dc "${join(dir, 'chunk.tar.zst')}" | tar -tf -`], {
      encoding: 'utf8',
    });
    t.deepEqual(listed.trim().split('\n'), ['shard/a.seg', 'shard/b.seg', 'shard/c.seg']);

    const staging = join(dir, 'staging');
    const extracted = await workers.unpack(
      (async function* () {
        for (let offset = 0; offset < chunk.length; offset += 300_000) yield chunk.subarray(offset, offset + 300_000);
      })(),
      {
        key: 'chunk-1',
        size: chunk.length,
        compression: 'zstd',
        sha256: result.sha256,
        files: descriptorsOf(files),
        staging,
      },
      new AbortController().signal,
      () => {},
    );
    t.deepEqual([...extracted].sort(), ['shard/a.seg', 'shard/b.seg', 'shard/c.seg']);
    for (const file of files) t.true((await readFile(join(staging, file.path))).equals(file.bytes), file.path);
  });
}

test('chunk workers run below the priority of the thread serving requests (Linux)', async (t) => {
  if (process.platform !== 'linux') {
    t.pass('thread priorities are only lowered on Linux');
    return;
  }
  const before = new Set(await readdir('/proc/self/task'));
  const { dir, workers } = await started(t, 2);
  await packed(workers, dir, 'NoCompression'); // both workers have started
  // A thread another test file started may end between listing and reading: it counts as not lowered.
  const niceness = async (task: string) => {
    const stat = await readFile(`/proc/self/task/${task}/stat`, 'utf8').catch((error) => {
      if (error.code === 'ENOENT' || error.code === 'ESRCH') return undefined;
      throw error;
    });
    return stat === undefined ? 0 : Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  };
  // Other test files run in this process too: look only at threads started since, and at least ours.
  // The worker that packed nothing lowers its priority as it starts, which a busy machine may delay.
  const loweredThreads = async () => {
    const started = (await readdir('/proc/self/task')).filter((task) => !before.has(task));
    return (await Promise.all(started.map(niceness))).filter((nice) => nice > 0);
  };
  let lowered = await loweredThreads();
  for (let tries = 0; lowered.length < 2 && tries < 100; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    lowered = await loweredThreads();
  }
  t.true(lowered.length >= 2, `each worker thread runs at a lower priority (${lowered.length} lowered)`);
  const self = (await readlink('/proc/thread-self')).split('/').at(-1) as string;
  t.is(await niceness(self), 0, 'the thread that started them keeps its priority');
});

for (const [level, compression] of [
  ['BestSpeed', 'gzip'],
  ['ZstdBestSpeed', 'zstd'],
] as const) {
  test(`a corrupt ${compression} chunk rejects, across the worker thread, with a BackupCorruptError itself`, async (t) => {
    const { dir, workers } = await started(t);
    const { files, chunk, result } = await packed(workers, dir, level);
    chunk[Math.floor(chunk.length / 2)] ^= 0xff;
    const descriptors = descriptorsOf(files);
    const error = await t.throwsAsync(
      workers.unpack(
        (async function* () {
          yield chunk;
        })(),
        {
          key: 'bk/node1/Class/chunk-1',
          size: chunk.length,
          compression,
          sha256: result.sha256,
          files: descriptors,
          staging: join(dir, 'staging'),
        },
        new AbortController().signal,
        () => {},
      ),
    );
    t.true(error instanceof BackupCorruptError, `${error?.constructor.name}: ${error?.message}`);
    t.true(BackupCorruptError.is(error));
    t.is((error as InstanceType<typeof BackupCorruptError>).statusCode, 422);
    t.regex(error?.message ?? '', /^corrupted backup file: bk\/node1\/Class\/chunk-1: /);
  });
}

/**
 * Unpacks a copy of `chunk` (whole, in one piece: the worker takes over the memory it is sent) as a
 * chunk of `files`, with the chunk's hash or not.
 */
function unpackWhole(
  workers: ChunkWorkers,
  dir: string,
  chunk: Buffer,
  target: { sha256: string | undefined; files: Record<string, FileDescriptor> },
) {
  return workers.unpack(
    (async function* () {
      yield Buffer.from(chunk);
    })(),
    {
      key: 'bk/node1/Class/chunk-1',
      size: chunk.length,
      compression: 'none',
      staging: join(dir, 'staging'),
      ...target,
    },
    new AbortController().signal,
    () => {},
  );
}

test("a file byte altered in an uncompressed chunk fails on the chunk's SHA-256 (format 2)", async (t) => {
  const { dir, workers } = await started(t);
  const { files, chunk, result } = await packed(workers, dir, 'NoCompression');
  chunk[512 + 1000] ^= 0xff; // inside a.seg, whose tar stream stays well formed
  const error = await t.throwsAsync(
    unpackWhole(workers, dir, chunk, { sha256: result.sha256, files: descriptorsOf(files) }),
  );
  t.true(BackupCorruptError.is(error));
  t.is(
    error?.message,
    `corrupted backup file: bk/node1/Class/chunk-1: the chunk does not match its checksum (sha256 ${sha256(chunk)}, expected ${result.sha256})`,
  );
});

test("a file byte altered in a format 1 chunk fails on the file's SHA-256, the chunk's hash unchecked", async (t) => {
  const { dir, workers } = await started(t);
  const { files, chunk } = await packed(workers, dir, 'NoCompression');
  const intact = await unpackWhole(workers, dir, chunk, { sha256: undefined, files: descriptorsOf(files, 1) });
  t.is(intact.length, 3);
  chunk[512 + 1000] ^= 0xff;
  const error = await t.throwsAsync(
    unpackWhole(workers, dir, chunk, { sha256: undefined, files: descriptorsOf(files, 1) }),
  );
  t.true(BackupCorruptError.is(error));
  t.regex(
    error?.message ?? '',
    /^corrupted backup file: bk\/node1\/Class\/chunk-1: shard\/a\.seg does not match its checksum \(sha256 [0-9a-f]{64}, expected [0-9a-f]{64}\)$/,
  );
});

test('a pack started while every worker is busy waits for one, and runs once the first job ends', async (t) => {
  const { dir, workers } = await started(t, 1);
  await writeFile(join(dir, 'a'), content(2 * 1024 * 1024));
  const files = [{ path: 'shard/a', source: join(dir, 'a'), size: 2 * 1024 * 1024 }];
  const first = await workers.pack(files, 'NoCompression', new AbortController().signal, () => {});
  let secondStarted = false;
  const second = workers
    .pack(files, 'NoCompression', new AbortController().signal, () => {})
    .then((job) => {
      secondStarted = true;
      return job;
    });
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.false(secondStarted, 'the second job waits while the only worker packs the first');
  for await (const _ of first.body); // the first job's bytes are taken: its worker is free
  const done = await first.packed;
  const next = await second;
  const pieces: Buffer[] = [];
  for await (const piece of next.body) pieces.push(piece as Buffer);
  t.is((await next.packed).sha256, done.sha256, 'the same files pack to the same chunk');
  t.is(sha256(Buffer.concat(pieces)), done.sha256);
});

test('a job waiting for a worker rejects with the abort reason and never runs', async (t) => {
  const { dir, workers } = await started(t, 1);
  await writeFile(join(dir, 'a'), content(1024));
  const files = [{ path: 'shard/a', source: join(dir, 'a'), size: 1024 }];
  const first = await workers.pack(files, 'NoCompression', new AbortController().signal, () => {});
  const abort = new AbortController();
  const waiting = workers.pack(files, 'NoCompression', abort.signal, () => {});
  abort.abort(new Error('canceled while waiting'));
  await t.throwsAsync(waiting, { message: 'canceled while waiting' });
  for await (const _ of first.body);
  await first.packed;
  // The worker is idle again, not handed to the aborted job: a third job gets it at once.
  const third = await workers.pack(files, 'NoCompression', new AbortController().signal, () => {});
  for await (const _ of third.body);
  t.is((await third.packed).size, 512 + 1024 + 1024);
});
