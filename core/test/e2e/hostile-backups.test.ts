import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import test from 'ava';
import { extractTar, tarHeader, tarStream } from '../../src/backup/tar.js';
import { type BackupNode, seed, startBackupNode, waitFor } from '../helpers/backups.js';
import { repeated, zstdFrame } from '../helpers/zstd.js';

// A backup may come from anywhere, so a restore treats every byte of it as hostile. Each case below
// plants a backup whose descriptors or chunks were crafted (most of them consistent: a path escape is
// listed in the descriptor, present in the chunk and matches its checksum) and restores it. Whatever
// the outcome (refused up front or FAILED), nothing outside the backup's own directory may change:
// the data path, the live class in it and a victim directory beside it are compared file by file.

// biome-ignore lint/suspicious/noExplicitAny: descriptors are edited field by field as plain JSON.
type Json = any;

interface Entry {
  name: string;
  content: Buffer;
}

interface Forged {
  global?: (global: Json) => void;
  node?: (node: Json) => void;
  /** The entries of chunk 1, to rename, drop or add to; its size and hash are then recomputed. */
  entries?: (entries: Entry[], node: Json) => void;
  /** Chunk 1's bytes as stored, after everything else (its descriptor then no longer matches). */
  bytes?: (chunk: Buffer) => Buffer;
  /** Record the size and hash of what `bytes` made, so only the chunk's content is wrong. */
  rehash?: boolean;
  /** The other chunks' bytes as stored, with their sizes and hashes recorded. */
  others?: (chunk: Buffer) => Buffer;
  /** The raw text of a descriptor, instead of its JSON. */
  rawGlobal?: string;
  rawNode?: string;
}

interface Case extends Forged {
  readonly title: string;
  /** The restore is refused with 422 and this message, before anything is written. */
  readonly refused?: RegExp;
  /** The restore starts, then ends FAILED with this error. */
  readonly fails?: RegExp;
}

interface Fixture {
  node: BackupNode;
  sandbox: string;
  global: Json;
  nodeDescriptor: Json;
  chunks: Map<string, Buffer>;
  /** A file of the live class's store, relative to the data path: what an escape would overwrite. */
  liveFile: string;
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

async function untar(bytes: Buffer): Promise<Entry[]> {
  const entries: Entry[] = [];
  await extractTar(
    [bytes],
    async (name) => {
      const parts: Buffer[] = [];
      return {
        write: async (piece) => void parts.push(Buffer.from(piece)),
        end: async () => void entries.push({ name, content: Buffer.concat(parts) }),
        abort: async () => {},
      };
    },
    'fixture',
  );
  return entries;
}

async function tar(entries: readonly Entry[]): Promise<Buffer> {
  const parts: Buffer[] = [];
  const stream = tarStream(
    entries.map(({ name, content }) => ({ name, size: content.length, mtime: new Date(0), content: [content] })),
  );
  for await (const piece of stream) parts.push(piece);
  return Buffer.concat(parts);
}

/** Every file and directory under `dir` but `skip`, with a hash of each file. */
async function tree(dir: string, skip: string): Promise<Record<string, string>> {
  const found: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    if (path === skip || path.startsWith(`${skip}/`)) continue;
    found[relative(dir, path)] = entry.isDirectory() ? 'dir' : sha256(await readFile(path));
  }
  return found;
}

let fixture: Fixture;
let counter = 0;
const teardowns: Array<() => Promise<void>> = [];
test.after.always(async () => {
  for (const teardown of teardowns.reverse()) await teardown();
});

test.before(async () => {
  const sandbox = await mkdtemp(join(tmpdir(), 'strata-hostile-'));
  teardowns.push(() => rm(sandbox, { recursive: true, force: true }));
  await mkdir(join(sandbox, 'backups'));
  await mkdir(join(sandbox, 'victim'));
  await writeFile(join(sandbox, 'victim', 'keep.txt'), 'must survive');
  const node = await startBackupNode(
    { teardown: (fn) => void teardowns.push(fn) },
    { BACKUP_CHUNK_TARGET_SIZE: '8KiB' },
    { dataPath: join(sandbox, 'data'), backups: join(sandbox, 'backups') },
  );
  await seed(node, 'Live', 50);
  await seed(node, 'Article', 300, 2);
  // Backing Live up flushes it, so its store directory holds a segment an escape could overwrite.
  for (const [id, include] of [
    ['live', 'Live'],
    ['template', 'Article'],
  ]) {
    await node.request('POST', '/v1/backups/filesystem', {
      id,
      include: [include],
      config: { CompressionLevel: 'NoCompression' },
    });
    const done = await waitFor(node, `/v1/backups/filesystem/${id}`);
    if (done.body.status !== 'SUCCESS') throw new Error(`fixture backup ${id}: ${JSON.stringify(done.body)}`);
  }
  await node.request('DELETE', '/v1/schema/Article');
  const home = join(sandbox, 'backups', 'template');
  const nodeDescriptor = JSON.parse(await readFile(join(home, 'node1', 'backup.json'), 'utf8'));
  const chunks = new Map<string, Buffer>();
  for (const name of await readdir(join(home, 'node1', 'Article'))) {
    chunks.set(name, await readFile(join(home, 'node1', 'Article', name)));
  }
  const [liveShard] = await readdir(join(sandbox, 'data', 'live'));
  const liveFiles = await readdir(join(sandbox, 'data', 'live', liveShard as string));
  const segment = liveFiles.find((name) => name.startsWith('segment-')) as string;
  fixture = {
    node,
    sandbox,
    global: JSON.parse(await readFile(join(home, 'backup_config.json'), 'utf8')),
    nodeDescriptor,
    chunks,
    liveFile: `live/${liveShard}/${segment}`,
  };
});

/** Writes a backup `id` made from the template and `forged`'s changes to it. */
async function plant(id: string, forged: Forged): Promise<void> {
  const home = join(fixture.sandbox, 'backups', id);
  const global = structuredClone(fixture.global);
  global.id = id;
  const node = structuredClone(fixture.nodeDescriptor);
  node.id = id;
  const chunks = new Map(fixture.chunks);
  if (forged.entries !== undefined) {
    const entries = await untar(chunks.get('chunk-1') as Buffer);
    forged.entries(entries, node);
    const bytes = await tar(entries);
    chunks.set('chunk-1', bytes);
    Object.assign(node.classes[0].chunks['1'], { size: bytes.length, sha256: sha256(bytes) });
  }
  if (forged.others !== undefined) {
    for (const [name, bytes] of chunks) {
      if (name === 'chunk-1') continue;
      const stored = forged.others(bytes);
      chunks.set(name, stored);
      Object.assign(node.classes[0].chunks[name.slice('chunk-'.length)], {
        size: stored.length,
        sha256: sha256(stored),
      });
    }
  }
  forged.global?.(global);
  forged.node?.(node);
  if (forged.bytes !== undefined) {
    const bytes = forged.bytes(chunks.get('chunk-1') as Buffer);
    chunks.set('chunk-1', bytes);
    if (forged.rehash === true) Object.assign(chunk1(node), { size: bytes.length, sha256: sha256(bytes) });
  }
  await mkdir(join(home, 'node1', 'Article'), { recursive: true });
  await writeFile(join(home, 'backup_config.json'), forged.rawGlobal ?? JSON.stringify(global));
  await writeFile(join(home, 'node1', 'backup.json'), forged.rawNode ?? JSON.stringify(node));
  for (const [name, bytes] of chunks) await writeFile(join(home, 'node1', 'Article', name), bytes);
}

/** The first file in chunk 1 renamed to `path`, in the chunk and in its descriptor (kept consistent). */
function renameFirstFile(path: string): Pick<Forged, 'entries'> {
  return {
    entries: (entries, node) => {
      const entry = entries[0] as Entry;
      const files = node.classes[0].shards.flatMap((shard: Json) => shard.files);
      const file = files.find((f: Json) => f.path === entry.name);
      entry.name = path;
      file.path = path;
    },
  };
}

/** Class Article renamed to `name` everywhere a descriptor names it (schema, file paths, chunk keys). */
/** The backup's class (Article) renamed `name` in backup_config.json's list of its node's classes. */
const renameInGlobal = (name: string) => (global: Json) => {
  for (const part of Object.values(global.nodes) as Json[]) {
    part.classes = part.classes.map((c: string) => (c === 'Article' ? name : c));
  }
};

function renameClass(name: string): Pick<Forged, 'entries'> {
  return {
    entries: (entries, node) => {
      const cls = node.classes[0];
      const from = `${cls.name.toLowerCase()}/`;
      const to = `${name.toLowerCase()}/`;
      for (const entry of entries) entry.name = entry.name.replace(from, to);
      for (const shard of cls.shards) for (const file of shard.files) file.path = file.path.replace(from, to);
      for (const chunk of Object.values(cls.chunks) as Json[])
        chunk.key = chunk.key.replace(`/${cls.name}/`, `/${name}/`);
      cls.name = name;
      cls.schema.class = name;
    },
  };
}

/** Shard 0 renamed to `name` in its descriptor, its files' paths, the chunks and the tar entries. */
function renameShard(name: string): Pick<Forged, 'entries'> {
  return {
    entries: (entries, node) => {
      const cls = node.classes[0];
      const shard = cls.shards[0];
      const from = `${cls.name.toLowerCase()}/${shard.name}/`;
      const to = `${cls.name.toLowerCase()}/${name}/`;
      for (const entry of entries) entry.name = entry.name.replace(from, to);
      for (const file of shard.files) file.path = file.path.replace(from, to);
      for (const chunk of Object.values(cls.chunks) as Json[]) {
        chunk.shards = chunk.shards.map((s: string) => (s === shard.name ? name : s));
      }
      shard.name = name;
    },
  };
}

const file0 = (node: Json) => node.classes[0].shards[0].files[0];
const chunk1 = (node: Json) => node.classes[0].chunks['1'];
const corrupt = (what: string, field: string) =>
  new RegExp(`^corrupted backup file: [a-z0-9-]+/${what}: ${field.replace(/[[\]().*]/g, '\\$&')}`);
const inGlobal = (field: string) => corrupt('backup_config\\.json', field);
const inNode = (field: string) => corrupt('node1/backup\\.json', field);
const anyFilePath =
  /^corrupted backup file: [a-z0-9-]+\/node1\/backup\.json: classes\[0\]\.shards\[\d\]\.files\[\d+\]\.path: /;

/**
 * The template as a zstd backup whose chunk 1 is what `frames` makes of its tar: the descriptors say
 * zstd, the other chunks are zstd, and every chunk's size and hash are recorded.
 */
const asZstd = (frames: (tar: Buffer) => Buffer): Forged => ({
  global: (g) => (g.compressionType = 'zstd'),
  node: (n) => (n.compressionType = 'zstd'),
  others: (tar) => zstdFrame([tar]),
  bytes: frames,
  rehash: true,
});
/** The name of the first entry of a tar stream whose names fit ustar's name field, as the template's do. */
const firstName = (tar: Buffer) => tar.toString('utf8', 0, 100).replace(/\0.*$/s, '');

const deepNesting = (depth: number): Json => {
  let property: Json = { name: 'leaf', dataType: ['text'] };
  for (let i = 0; i < depth; i++) property = { name: `n${i}`, dataType: ['object'], nestedProperties: [property] };
  return property;
};

const cases: Case[] = [
  // The global descriptor, field by field.
  { title: 'a global descriptor that is not JSON', rawGlobal: '{"id": ', refused: inGlobal('') },
  {
    title: 'a global descriptor that is an array',
    rawGlobal: '[]',
    refused: inGlobal('the descriptor: must be an object'),
  },
  { title: 'nodes missing', global: (g) => delete g.nodes, refused: inGlobal('nodes: must be an object') },
  { title: 'nodes null', global: (g) => (g.nodes = null), refused: inGlobal('nodes: must be an object') },
  { title: 'nodes empty', global: (g) => (g.nodes = {}), refused: inGlobal('nodes: names no node') },
  {
    title: 'a node named ".."',
    global: (g) => (g.nodes = { '..': g.nodes.node1 }),
    refused: inGlobal('nodes[".."] (its name): ".." is not a valid name'),
  },
  {
    title: 'a node named "../victim"',
    global: (g) => (g.nodes = { '../victim': g.nodes.node1 }),
    refused: inGlobal('nodes["../victim"] (its name)'),
  },
  {
    title: 'a node without classes',
    global: (g) => (g.nodes.node1.classes = null),
    refused: inGlobal('nodes["node1"].classes: must be an array'),
  },
  {
    title: 'a class name that climbs out, in the global descriptor',
    global: (g) => (g.nodes.node1.classes = ['../../victim']),
    refused: inGlobal('nodes["node1"].classes[0]: "../../victim" is not a valid name'),
  },
  {
    title: 'the id of another backup',
    global: (g) => (g.id = 'other'),
    refused: inGlobal('id: is "other", but the backup is'),
  },
  { title: 'no id', global: (g) => delete g.id, refused: inGlobal('id: is nothing, but the backup is') },
  { title: 'startedAt null', global: (g) => (g.startedAt = null), refused: inGlobal('startedAt: must be a string') },
  {
    title: 'startedAt not a date',
    global: (g) => (g.startedAt = 'yesterday'),
    refused: inGlobal('startedAt: "yesterday" is not a date and time'),
  },
  { title: 'an unknown status', global: (g) => (g.status = 'DONE'), refused: inGlobal('status: must be one of') },
  {
    title: 'a version that is not a version',
    global: (g) => (g.version = '../1'),
    refused: inGlobal('version: "../1" is not <major>.<minor>'),
  },
  {
    title: 'a newer major version',
    global: (g) => (g.version = '99.0'),
    refused: /^unable to restore backup as it was produced by a higher version: 99\.0 > 2\.0/,
  },
  {
    // On a cluster each node writes its own descriptor, which may be newer than backup_config.json.
    title: 'a node descriptor of a newer major version',
    node: (n) => (n.version = '3.0'),
    refused:
      /^unable to restore backup as it was produced by a higher version: 3\.0 > 2\.0; upgrade @strata\/core to restore it$/,
  },
  {
    title: 'a leader that climbs out',
    global: (g) => (g.leader = '../x'),
    refused: inGlobal('leader: "../x" is not a valid name'),
  },
  {
    title: 'a node_mapping to a path',
    global: (g) => (g.node_mapping = { node1: '/etc' }),
    refused: inGlobal('node_mapping["node1"]: "/etc" is not a valid name'),
  },
  {
    title: 'a negative size',
    global: (g) => (g.preCompressionSizeBytes = -1),
    refused: inGlobal('preCompressionSizeBytes: must be a whole number'),
  },
  {
    title: 'a size past 2^53',
    global: (g) => (g.preCompressionSizeBytes = 1e300),
    refused: inGlobal('preCompressionSizeBytes: must be a whole number'),
  },
  {
    title: 'a size as a string',
    global: (g) => (g.preCompressionSizeBytes = '5'),
    refused: inGlobal('preCompressionSizeBytes: must be a whole number'),
  },
  {
    title: 'an error of 100,000 characters',
    global: (g) => (g.error = 'x'.repeat(100_000)),
    refused: inGlobal('error: is 100000 characters long, more than the limit of 65536'),
  },
  {
    title: 'a compression type Strata does not write',
    global: (g) => (g.compressionType = 'lz4'),
    refused: inGlobal('compressionType: must be one of gzip, zstd, none'),
  },

  // The node descriptor: its own fields, then each class, shard, file and chunk.
  { title: 'a node descriptor that is not JSON', rawNode: 'garbage', refused: inNode('') },
  { title: 'classes null', node: (n) => (n.classes = null), refused: inNode('classes: must be an array') },
  { title: 'classes as an object', node: (n) => (n.classes = {}), refused: inNode('classes: must be an array') },
  {
    title: 'more classes than the limit',
    node: (n) => (n.classes = Array.from({ length: 10_001 }, () => null)),
    refused: inNode('classes: has 10001 entries, more than the limit of 10000'),
  },
  {
    title: 'a class that is not an object',
    node: (n) => (n.classes[0] = 'Article'),
    refused: inNode('classes[0]: must be an object'),
  },
  { title: 'the node descriptor of another backup', node: (n) => (n.id = 'other'), refused: inNode('id: is "other"') },
  {
    title: 'a node descriptor without startedAt',
    node: (n) => delete n.startedAt,
    refused: inNode('startedAt: must be a string'),
  },
  { title: 'a class named "../../victim"', ...renameClass('../../victim'), refused: inNode('classes[0].schema: ') },
  { title: 'a class named "."', ...renameClass('.'), refused: inNode('classes[0].schema: ') },
  {
    title: 'a class named "bad name!"',
    ...renameClass('bad name!'),
    refused: inNode("classes[0].schema: 'Bad name!' is not a valid class name"),
  },
  {
    title: 'a class named after the live class',
    ...renameClass('Live'),
    global: renameInGlobal('Live'),
    refused: /^cannot restore class Live: already exists on this node/,
  },
  {
    title: 'a node descriptor without the class backup_config.json lists for its node',
    ...renameClass('Other'),
    refused: inNode('it does not hold class Article, which backup_config.json lists for node node1'),
  },
  {
    title: "a class whose name is not its schema's",
    node: (n) => (n.classes[0].name = 'Other'),
    refused: inNode('classes[0].name: "Other" is not the class its schema defines ("Article")'),
  },
  {
    title: 'a schema with "properties": "nope"',
    node: (n) => (n.classes[0].schema.properties = 'nope'),
    refused: inNode("classes[0].schema: class 'Article': properties must be an array"),
  },
  {
    title: 'no schema',
    node: (n) => delete n.classes[0].schema,
    refused: inNode('classes[0].schema: the class must be a JSON object'),
  },
  {
    title: 'a schema property of an unknown type',
    node: (n) => (n.classes[0].schema.properties[0].dataType = ['exe']),
    refused: inNode('classes[0].schema: '),
  },
  {
    title: 'a schema nested 40 levels deep',
    node: (n) => n.classes[0].schema.properties.push(deepNesting(40)),
    refused: /^corrupted backup file: .*classes\[0\]\.schema: .*nested properties may be at most 30 levels deep$/,
  },
  {
    title: 'a class listed twice',
    node: (n) => n.classes.push(structuredClone(n.classes[0])),
    refused: inNode('classes[1].name: "Article" appears more than once'),
  },
  {
    title: 'a class without shards',
    node: (n) => (n.classes[0].shards = []),
    refused: inNode('classes[0].shards: lists no shard'),
  },
  {
    title: 'shards null',
    node: (n) => (n.classes[0].shards = null),
    refused: inNode('classes[0].shards: must be an array'),
  },
  {
    title: 'a shard named "../../../escape2"',
    ...renameShard('../../../escape2'),
    refused: inNode('classes[0].shards[0].name: "../../../escape2" is not a valid name'),
  },
  { title: 'a shard named "schema.json"', ...renameShard('schema.json'), refused: inNode('classes[0].shards[0].name') },
  { title: 'a shard named ".."', ...renameShard('..'), refused: inNode('classes[0].shards[0].name') },
  { title: 'a shard name with a NUL byte', ...renameShard('a\u0000b'), refused: inNode('classes[0].shards[0].name') },
  {
    title: 'a shard listed twice',
    node: (n) => (n.classes[0].shards[1].name = n.classes[0].shards[0].name),
    refused: inNode('classes[0].shards[1].name'),
  },
  {
    title: 'a shard on a node that climbs out',
    node: (n) => (n.classes[0].shards[0].node = '../x'),
    refused: inNode('classes[0].shards[0].node'),
  },
  {
    title: 'files null',
    node: (n) => (n.classes[0].shards[0].files = null),
    refused: inNode('classes[0].shards[0].files: must be an array'),
  },

  // File paths, kept consistent with the chunk: only validation stands between them and the disk.
  {
    title: 'a file path into the live class',
    ...renameFirstFile('../../live-target'),
    refused: anyFilePath,
  },
  {
    title: 'a file path that overwrites a live segment',
    node: (n) => (file0(n).path = `../../${fixture.liveFile}`),
    refused: inNode('classes[0].shards[0].files[0].path'),
  },
  {
    title: "a file path in the live class's directory",
    node: (n) => (file0(n).path = fixture.liveFile),
    refused: inNode('classes[0].shards[0].files[0].path'),
  },
  {
    title: 'a file path to a victim beside the data path',
    ...renameFirstFile('../../../../victim/x.db'),
    refused: anyFilePath,
  },
  {
    title: 'a file path that climbs out from inside its shard',
    node: (n) => (file0(n).path = `${file0(n).path.split('/').slice(0, 2).join('/')}/../../../../victim/y.db`),
    refused: inNode('classes[0].shards[0].files[0].path'),
  },
  {
    title: 'an absolute file path',
    node: (n) => (file0(n).path = join(fixture.sandbox, 'victim', 'abs.db')),
    refused: inNode('classes[0].shards[0].files[0].path'),
  },
  {
    title: 'a hidden file',
    node: (n) => (file0(n).path = `${file0(n).path.split('/').slice(0, 2).join('/')}/.hidden`),
    refused: inNode('classes[0].shards[0].files[0].path'),
  },
  {
    title: 'a file path with a NUL byte',
    node: (n) => (file0(n).path = `${file0(n).path}\u0000x`),
    refused: inNode('classes[0].shards[0].files[0].path'),
  },
  {
    title: 'a file path that is its shard directory',
    node: (n) => (file0(n).path = `${file0(n).path.split('/').slice(0, 2).join('/')}/`),
    refused: inNode('classes[0].shards[0].files[0].path'),
  },
  {
    title: 'a file of another shard',
    node: (n) => (file0(n).path = file0(n).path.replace(n.classes[0].shards[0].name, n.classes[0].shards[1].name)),
    refused: inNode('classes[0].shards[0].files[0].path'),
  },
  {
    title: 'a file path listed twice',
    node: (n) => n.classes[0].shards[0].files.push({ ...file0(n) }),
    refused: inNode('classes[0].shards[0].files[1].path: '),
  },
  {
    title: 'a file of negative size',
    node: (n) => (file0(n).size = -1),
    refused: inNode('classes[0].shards[0].files[0].size'),
  },
  {
    title: 'a file of 2^60 bytes',
    node: (n) => (file0(n).size = 2 ** 60),
    refused: inNode('classes[0].shards[0].files[0].size'),
  },
  {
    title: 'a file checksum that is no SHA-256 (format 1, whose files carry one)',
    node: (n) => {
      n.version = '1.1';
      file0(n).sha256 = '../x';
    },
    refused: inNode('classes[0].shards[0].files[0].sha256'),
  },

  {
    title: 'files that claim more bytes than the disk has free (1 PiB)',
    node: (n) => (file0(n).size = 2 ** 50),
    refused: /^the classes to restore hold \d+ bytes, but the data path's filesystem has \d+ bytes free/,
  },
  // Chunks in the node descriptor.
  {
    title: 'chunks null',
    node: (n) => (n.classes[0].chunks = null),
    refused: inNode('classes[0].chunks: must be an object'),
  },
  {
    title: 'a chunk key that climbs out',
    node: (n) => (chunk1(n).key = '../../victim/keep.txt'),
    refused: inNode('classes[0].chunks["1"].key: must be "node1/Article/chunk-1"'),
  },
  {
    title: 'a chunk key of another backup',
    node: (n) => (chunk1(n).key = '../live/node1/Live/chunk-1'),
    refused: inNode('classes[0].chunks["1"].key'),
  },
  {
    title: 'an absolute chunk key',
    node: (n) => (chunk1(n).key = '/etc/passwd'),
    refused: inNode('classes[0].chunks["1"].key'),
  },
  {
    title: 'chunk number 0',
    node: (n) => {
      n.classes[0].chunks['0'] = chunk1(n);
      delete n.classes[0].chunks['1'];
    },
    refused: inNode('classes[0].chunks["0"]: a chunk number must be a whole number from 1'),
  },
  {
    title: 'a chunk of a shard the class does not have',
    node: (n) => (chunk1(n).shards = ['nope']),
    refused: inNode('classes[0].chunks["1"].shards[0]: "nope" is not a shard of Article'),
  },
  {
    title: 'a chunk of no shard',
    node: (n) => (chunk1(n).shards = []),
    refused: inNode('classes[0].chunks["1"].shards: lists no shard'),
  },
  {
    title: 'a chunk of negative size',
    node: (n) => (chunk1(n).size = -5),
    refused: inNode('classes[0].chunks["1"].size'),
  },
  {
    title: 'a chunk checksum that is no SHA-256',
    node: (n) => (chunk1(n).sha256 = 'abc'),
    refused: inNode('classes[0].chunks["1"].sha256'),
  },

  // Chunks themselves: the descriptor is sound, the bytes are not.
  {
    title: 'a chunk with an entry the descriptor does not list, named to escape',
    entries: (entries) => void entries.push({ name: '../../../victim/tar.db', content: Buffer.from('x') }),
    fails: /holds "\.\.\/\.\.\/\.\.\/victim\/tar\.db", which the backup descriptor does not list$/,
  },
  {
    title: 'a chunk with the same file twice',
    entries: (entries) => void entries.push({ ...(entries[0] as Entry) }),
    fails: /holds ".+" twice$/,
  },
  {
    title: "a chunk whose file bytes were overwritten, its checksum unchanged (garbage over a live segment's name)",
    bytes: (chunk) => Buffer.from(chunk).fill(0x41, 512, 1024), // the first file's first 512 bytes
    fails: /: the chunk does not match its checksum \(sha256 [0-9a-f]{64}, expected [0-9a-f]{64}\)$/,
  },
  {
    title: "a chunk forged with garbage over a live segment's name, its checksum recomputed",
    entries: (entries) => {
      const first = entries[0] as Entry;
      first.content = Buffer.alloc(first.content.length, 0x41);
    },
    // Hashes catch damage, not forgers: the store's own checks refuse the segment as it is attached.
    fails: /^corruption in segment-\d+-\d+\.db: /,
  },
  {
    title: 'a chunk that streams far more than its declared size',
    bytes: (chunk) => Buffer.concat([chunk, Buffer.alloc(8 * 1024 * 1024)]),
    fails: /the chunk is longer than the \d+ bytes it should be$/,
  },
  {
    title: 'a chunk with data after the end of the archive',
    bytes: (chunk) => Buffer.concat([chunk, Buffer.alloc(1024, 0x42)]),
    rehash: true,
    fails: /data follows the end of the archive$/,
  },
  {
    title: 'a chunk that goes on with megabytes of zeros after the end of the archive',
    bytes: (chunk) => Buffer.concat([chunk, Buffer.alloc(2 * 1024 * 1024)]),
    rehash: true,
    fails: /data follows the end of the archive$/,
  },
  {
    title: 'a chunk the descriptors say is zstd that is a plain tar',
    ...asZstd((tar) => tar),
    fails: /chunk-1: Unknown frame descriptor$/,
  },
  {
    title: 'a zstd chunk cut inside its last frame',
    ...asZstd((tar) => zstdFrame([tar]).subarray(0, -4)),
    fails: /chunk-1: the zstd stream ends inside a frame$/,
  },
  {
    title: 'a zstd chunk whose frame asks for a 128 MiB window',
    ...asZstd((tar) => zstdFrame([tar], { windowLog: 27 })),
    fails: /chunk-1: Frame requires too much memory for decoding$/,
  },
  {
    title: 'a zstd chunk of about 128 KiB that decodes to 4 GiB of zeros after the end of the archive',
    ...asZstd((tar) => Buffer.concat([zstdFrame([tar]), zstdFrame(repeated(0, 4096))])),
    fails: /chunk-1: data follows the end of the archive$/,
  },
  {
    title: 'a zstd chunk of about 128 KiB whose first entry claims 4 GiB',
    ...asZstd((tar) => zstdFrame([tarHeader(firstName(tar), 4 * 1024 ** 3, new Date(0)), ...repeated(0, 4096)])),
    fails: /chunk-1: article\/[A-Za-z0-9]{12}\/.+ is 4294967296 bytes, the descriptor says \d+$/,
  },
  {
    title: 'a chunk with a symbolic link',
    bytes: (chunk) => {
      const link = Buffer.from(chunk);
      link.write('2', 156, 'latin1');
      link.write('        ', 148, 'latin1');
      let sum = 0;
      for (const byte of link.subarray(0, 512)) sum += byte;
      link.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
      return link;
    },
    rehash: true,
    fails: /unexpected tar entry type "2" for ".+"$/,
  },
];

for (const entry of cases) {
  test.serial(`hostile backup: ${entry.title}`, async (t) => {
    const { node, sandbox } = fixture;
    const id = `hostile-${++counter}`;
    await plant(id, entry);
    const home = join(sandbox, 'backups', id);
    const before = await tree(sandbox, home);
    const reply = await node.request('POST', `/v1/backups/filesystem/${id}/restore`, {});
    if (entry.refused !== undefined) {
      t.is(reply.status, 422, JSON.stringify(reply.body));
      t.regex(reply.body.error[0].message, entry.refused);
      t.true(reply.body.error[0].message.length < 2000, 'the message quotes a bounded part of the input');
    } else {
      t.is(reply.status, 200, JSON.stringify(reply.body));
      const status = await waitFor(node, `/v1/backups/filesystem/${id}/restore`);
      t.is(status.body.status, 'FAILED');
      t.regex(status.body.error, entry.fails as RegExp);
    }
    const classes = (await node.request('GET', '/v1/schema')).body.classes.map((c: Json) => c.class);
    t.deepEqual(classes, ['Live'], 'nothing partial is attached');
    t.deepEqual(await tree(sandbox, home), before, 'nothing outside the backup changed');
  });
}

test.serial('the template restores: what the cases change is what fails them', async (t) => {
  const { node } = fixture;
  await plant('hostile-control', {});
  await node.request('POST', '/v1/backups/filesystem/hostile-control/restore', {});
  t.is((await waitFor(node, '/v1/backups/filesystem/hostile-control/restore')).body.status, 'SUCCESS');
  t.is((await node.request('GET', '/v1/objects?class=Article&limit=1000')).body.objects.length, 300);
  t.is((await node.request('DELETE', '/v1/schema/Article')).status, 200);
});

test.serial('the template as zstd restores: what the zstd cases change is what fails them', async (t) => {
  const { node } = fixture;
  await plant(
    'hostile-control-zstd',
    asZstd((tar) => zstdFrame([tar])),
  );
  await node.request('POST', '/v1/backups/filesystem/hostile-control-zstd/restore', {});
  const restored = await waitFor(node, '/v1/backups/filesystem/hostile-control-zstd/restore');
  t.is(restored.body.status, 'SUCCESS', restored.body.error);
  t.is((await node.request('GET', '/v1/objects?class=Article&limit=1000')).body.objects.length, 300);
  t.is((await node.request('DELETE', '/v1/schema/Article')).status, 200);
});

test.serial('a chunk that declares 100 bytes and streams 1 GiB is read no further than its 101st byte', async (t) => {
  const { node, sandbox } = fixture;
  await plant('hostile-long', { node: (n) => Object.assign(chunk1(n), { size: 100 }) });
  const chunk = join(sandbox, 'backups', 'hostile-long', 'node1', 'Article', 'chunk-1');
  await truncate(chunk, 1024 ** 3); // sparse: a gigabyte of zeros after the real bytes
  const backend = node.node.modules.backend('filesystem');
  const read = backend.read.bind(backend);
  let delivered = 0;
  backend.read = async (key, options) => {
    const stream = await read(key, options);
    if (key.endsWith('/chunk-1')) stream.on('data', (piece: Buffer) => (delivered += piece.length));
    return stream;
  };
  t.teardown(() => {
    backend.read = read;
  });
  await node.request('POST', '/v1/backups/filesystem/hostile-long/restore', {});
  const status = await waitFor(node, '/v1/backups/filesystem/hostile-long/restore');
  t.like(status.body, { status: 'FAILED' });
  t.regex(status.body.error, /chunk-1: the chunk is longer than the 100 bytes it should be$/);
  t.true(delivered < 4 * 1024 * 1024, `read ${delivered} bytes of the chunk`);
});
