/**
 * The node's schema, persisted as `<data path>/schema.json`: every class with its shards and the
 * node that owns each. Rewritten whole (temporary file, fsync, rename, directory fsync) on every
 * change, so it is always one complete version or the previous one.
 */
import { join } from 'node:path';
import { SchemaFileError } from '../errors.js';
import type { ClassDefinition } from './class-definition.js';
import type { DataFs } from './data-fs.js';

/** A shard of a class and the node it lives on. */
export interface ShardRecord {
  readonly name: string;
  readonly node: string;
}

/** A class as the node keeps it: its definition and its sharding state. */
export interface ClassRecord {
  readonly definition: ClassDefinition;
  readonly shards: readonly ShardRecord[];
}

/** The content of schema.json. */
export interface SchemaState {
  readonly version: 1;
  readonly classes: readonly ClassRecord[];
}

const SCHEMA_FILE = 'schema.json';

/**
 * The schema in `dataPath`, or an empty one where there is no schema.json yet.
 * @throws SchemaFileError when it cannot be read or parsed.
 */
export function loadSchema(fs: DataFs, dataPath: string): SchemaState {
  const file = join(dataPath, SCHEMA_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file).toString('utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, classes: [] };
    throw new SchemaFileError(file, (error as Error).message).withCause(error);
  }
  try {
    const state = JSON.parse(text) as SchemaState;
    if (state.version !== 1 || !Array.isArray(state.classes))
      throw new Error(`unknown schema file version ${String(state.version)}`);
    return state;
  } catch (error) {
    throw new SchemaFileError(file, (error as Error).message).withCause(error);
  }
}

/**
 * Replaces schema.json with `state`: written to a temporary file and synced, then renamed over it.
 * The rename is the commit point: if this throws, schema.json is as it was; once it returns, the new
 * version is the one every reader sees, and {@link syncSchema} makes it survive a power loss.
 */
export function replaceSchema(fs: DataFs, dataPath: string, state: SchemaState): void {
  const file = join(dataPath, SCHEMA_FILE);
  const temporary = `${file}.tmp`;
  fs.writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`);
  const fd = fs.openSync(temporary, 'r+');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(temporary, file);
}

/** Makes the last {@link replaceSchema} durable: fsyncs the data path, where the rename happened. */
export function syncSchema(fs: DataFs, dataPath: string): void {
  const dir = fs.openSync(dataPath, 'r');
  try {
    fs.fsyncSync(dir);
  } finally {
    fs.closeSync(dir);
  }
}
