import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SchemaFileError } from '../errors.js';
import type { ClassDefinition } from './class-definition.js';

/**
 * The node's schema, persisted as `<data path>/schema.json`: every class with its shards and the
 * node that owns each. Rewritten whole (temporary file, fsync, rename, directory fsync) on every
 * change, so it is always one complete version or the previous one.
 */

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

export interface SchemaState {
  readonly version: 1;
  readonly classes: readonly ClassRecord[];
}

export const SCHEMA_FILE = 'schema.json';

export function loadSchema(dataPath: string): SchemaState {
  const file = join(dataPath, SCHEMA_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
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

export function saveSchema(dataPath: string, state: SchemaState): void {
  const file = join(dataPath, SCHEMA_FILE);
  const temporary = `${file}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`);
  const fd = openSync(temporary, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, file);
  const dir = openSync(dataPath, 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}
