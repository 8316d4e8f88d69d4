import { type ClassDefinition, normalizeClass } from '../db/index.js';
import {
  isStoreFilePath,
  NODE_NAME,
  NODE_NAME_RULE,
  SHARD_NAME,
  SHARD_NAME_RULE,
  STORE_FILE_PATH_RULE,
} from '../db/names.js';
import { quoted, StrataError } from '../errors.js';
import { TimeSlice } from '../time-slice.js';
import { Fields, MAX_CLASSES, MAX_ERROR_LENGTH, SHA256, STATUSES } from './descriptor-fields.js';
import {
  type ChunkDescriptor,
  type ClassDescriptor,
  type FileDescriptor,
  formatMajor,
  type GlobalDescriptor,
  type NodeDescriptor,
  type RestoreDescriptor,
  type ShardDescriptor,
} from './descriptors.js';
import { BackupHome, isChunkNumber } from './home.js';

/**
 * Descriptors as read from a provider are untrusted: a backup may come from another team, a shared
 * bucket or an attacker. Each one is checked here, field by field, before anything acts on it, and
 * a bad one fails with `corrupted backup file: <key>: <field>: <problem>`. Names that become paths
 * (classes, shards, files) must be single plain segments, sizes and counts are bounded, and a class
 * schema passes exactly the checks `POST /v1/schema` applies. What passes is safe to join to a
 * staging directory and to restore; see docs/backup-format.md.
 */

/** Files in one shard. */
export const MAX_FILES_PER_SHARD = 100_000;
/** Chunks of one class. */
export const MAX_CHUNKS_PER_CLASS = 100_000;
/** Nodes in one backup. */
export const MAX_NODES = 1_000;
/** `<id>/backup_config.json`, checked. */
export function validateGlobalDescriptor(key: string, id: string, value: unknown): GlobalDescriptor {
  const fields = new Fields(key);
  const record = fields.object(value, 'the descriptor');
  const nodesRecord = fields.object(record.nodes, 'nodes');
  const names = Object.keys(nodesRecord);
  if (names.length === 0) fields.fail('nodes', 'names no node');
  if (names.length > MAX_NODES)
    fields.fail('nodes', `names ${names.length} nodes, more than the limit of ${MAX_NODES}`);
  const nodes: Record<string, GlobalDescriptor['nodes'][string]> = {};
  for (const name of names) {
    const field = `nodes[${quoted(name)}]`;
    fields.name(name, `${field} (its name)`, NODE_NAME, NODE_NAME_RULE);
    const node = fields.object(nodesRecord[name], field);
    nodes[name] = {
      classes: fields.classNames(node.classes, `${field}.classes`),
      status: fields.oneOf(node.status, `${field}.status`, STATUSES),
      error: fields.string(node.error, `${field}.error`, MAX_ERROR_LENGTH),
      preCompressionSizeBytes: fields.size(node.preCompressionSizeBytes, `${field}.preCompressionSizeBytes`),
    };
  }
  let mapping: Record<string, string> | null = null;
  if (record.node_mapping !== null && record.node_mapping !== undefined) {
    const given = fields.object(record.node_mapping, 'node_mapping');
    mapping = {};
    for (const [from, to] of Object.entries(given)) {
      mapping[fields.name(from, 'node_mapping (a key)', NODE_NAME, NODE_NAME_RULE)] = fields.name(
        to,
        `node_mapping[${quoted(from)}]`,
        NODE_NAME,
        NODE_NAME_RULE,
      );
    }
  }
  return {
    ...fields.operation(record, id),
    ...fields.format(record),
    leader: fields.name(record.leader, 'leader', NODE_NAME, NODE_NAME_RULE),
    node_mapping: mapping,
    nodes,
  };
}

/** `<id>/restore_config.json`, checked. */
export function validateRestoreDescriptor(key: string, id: string, value: unknown): RestoreDescriptor {
  const fields = new Fields(key);
  const record = fields.object(value, 'the descriptor');
  return {
    ...fields.operation(record, id),
    node: fields.name(record.node, 'node', NODE_NAME, NODE_NAME_RULE),
    classes: fields.classNames(record.classes, 'classes'),
  };
}

/**
 * `<id>/<node>/backup.json`, checked: the classes' schemas as `POST /v1/schema` checks them, shard
 * names, file paths of the form `<class in lower case>/<shard>/<plain names>` (unique), chunk keys
 * exactly where the layout puts them, and chunks naming shards of their own class. A descriptor may
 * list a hundred thousand files: the check lets the event loop turn every few milliseconds.
 */
export async function validateNodeDescriptor(
  key: string,
  id: string,
  node: string,
  value: unknown,
): Promise<NodeDescriptor> {
  const fields = new Fields(key);
  const record = fields.object(value, 'the descriptor');
  const format = fields.format(record);
  // Format 1 verified each file by its own SHA-256; from format 2 the chunk's covers its files.
  const fileHashes = formatMajor(format.version) === 1;
  const seen = new Set<string>();
  const classes: ClassDescriptor[] = [];
  const slice = new TimeSlice();
  for (const [i, entry] of fields.array(record.classes, 'classes', MAX_CLASSES).entries()) {
    const cls = await validateClass(fields, id, node, entry, `classes[${i}]`, slice, fileHashes);
    const directory = cls.name.toLowerCase();
    if (seen.has(directory)) fields.fail(`classes[${i}].name`, `${quoted(cls.name)} appears more than once`);
    seen.add(directory);
    classes.push(cls);
  }
  return { ...fields.operation(record, id), ...format, classes };
}

async function validateClass(
  fields: Fields,
  id: string,
  node: string,
  value: unknown,
  field: string,
  slice: TimeSlice,
  fileHashes: boolean,
): Promise<ClassDescriptor> {
  const record = fields.object(value, field);
  const name = fields.string(record.name, `${field}.name`, 255);
  let schema: ClassDefinition;
  try {
    schema = normalizeClass(record.schema);
  } catch (error) {
    if (error instanceof StrataError) fields.fail(`${field}.schema`, error.message);
    throw error;
  }
  if (schema.class !== name) {
    fields.fail(`${field}.name`, `${quoted(name)} is not the class its schema defines (${quoted(schema.class)})`);
  }
  const shardNames = new Set<string>();
  const paths = new Set<string>();
  const shards: ShardDescriptor[] = [];
  for (const [i, entry] of fields.array(record.shards, `${field}.shards`, 64).entries()) {
    const where = `${field}.shards[${i}]`;
    const shard = fields.object(entry, where);
    const shardName = fields.name(shard.name, `${where}.name`, SHARD_NAME, SHARD_NAME_RULE);
    if (shardNames.has(shardName)) fields.fail(`${where}.name`, `${quoted(shardName)} appears more than once`);
    shardNames.add(shardName);
    const prefix = `${name.toLowerCase()}/${shardName}/`;
    const listed = fields.array(shard.files, `${where}.files`, MAX_FILES_PER_SHARD);
    const files: FileDescriptor[] = [];
    for (let j = 0; j < listed.length; j++) {
      if (slice.due) await slice.next();
      const file = validateFile(fields, prefix, listed[j], where, j, fileHashes);
      if (paths.has(file.path)) fields.fail(`${where}.files[${j}].path`, `${quoted(file.path)} appears more than once`);
      paths.add(file.path);
      files.push(file);
    }
    shards.push({ name: shardName, node: fields.name(shard.node, `${where}.node`, NODE_NAME, NODE_NAME_RULE), files });
  }
  if (shards.length === 0) fields.fail(`${field}.shards`, 'lists no shard');
  const chunksRecord = fields.object(record.chunks, `${field}.chunks`);
  const numbers = Object.keys(chunksRecord);
  if (numbers.length > MAX_CHUNKS_PER_CLASS) {
    fields.fail(`${field}.chunks`, `has ${numbers.length} chunks, more than the limit of ${MAX_CHUNKS_PER_CLASS}`);
  }
  const chunks: Record<string, ChunkDescriptor> = {};
  for (const n of numbers) {
    const where = `${field}.chunks[${quoted(n)}]`;
    if (!isChunkNumber(n)) fields.fail(where, 'a chunk number must be a whole number from 1');
    const chunk = fields.object(chunksRecord[n], where);
    const expectedKey = new BackupHome(id).node(node).chunkName(name, Number(n));
    if (chunk.key !== expectedKey) {
      fields.fail(`${where}.key`, `must be ${quoted(expectedKey)}, not ${quoted(chunk.key)}`);
    }
    const holds = fields.array(chunk.shards, `${where}.shards`, 64).map((shard, i) => {
      if (typeof shard !== 'string' || !shardNames.has(shard)) {
        fields.fail(`${where}.shards[${i}]`, `${quoted(shard)} is not a shard of ${name}`);
      }
      return shard;
    });
    if (holds.length === 0) fields.fail(`${where}.shards`, 'lists no shard');
    chunks[n] = {
      key: expectedKey,
      size: fields.size(chunk.size, `${where}.size`),
      sha256: fields.sha256(chunk.sha256, `${where}.sha256`),
      shards: [...new Set(holds)],
    };
  }
  return {
    name,
    schema,
    shards,
    chunks,
    preCompressionSizeBytes: fields.size(record.preCompressionSizeBytes, `${field}.preCompressionSizeBytes`),
  };
}

/**
 * A file's path must be `<prefix><plain name>[/<plain name>...]`: inside its shard's directory; its
 * SHA-256 is read when `hashed` (format 1) and ignored otherwise. The common case (a sound entry) is
 * checked in one pass without building field names; only a bad entry goes through the field-by-field
 * checks that name what is wrong.
 */
function validateFile(
  fields: Fields,
  prefix: string,
  value: unknown,
  shard: string,
  j: number,
  hashed: boolean,
): FileDescriptor {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const { path, size, sha256 } = value as Record<string, unknown>;
    if (
      typeof path === 'string' &&
      path.length <= 1024 &&
      path.startsWith(prefix) &&
      isStoreFilePath(path.slice(prefix.length)) &&
      Number.isSafeInteger(size) &&
      (size as number) >= 0
    ) {
      if (!hashed) return { path, size: size as number };
      if (typeof sha256 === 'string' && SHA256.test(sha256)) return { path, size: size as number, sha256 };
    }
  }
  const field = `${shard}.files[${j}]`;
  const file = fields.object(value, field);
  const path = fields.string(file.path, `${field}.path`, 1024);
  if (!path.startsWith(prefix) || !isStoreFilePath(path.slice(prefix.length))) {
    fields.fail(
      `${field}.path`,
      `${quoted(path)} is not a file of its shard: it must be ${quoted(`${prefix}<file>`)}, where <file> is ` +
        STORE_FILE_PATH_RULE,
    );
  }
  const size = fields.size(file.size, `${field}.size`);
  return hashed ? { path, size, sha256: fields.sha256(file.sha256, `${field}.sha256`) } : { path, size };
}
