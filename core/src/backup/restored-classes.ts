import type { ClassRecord, Database, ShardRecord } from '../db/index.js';
import { BackupCorruptError } from '../errors.js';
import type { BackupBackend } from '../provider/backend.js';
import type { NodeDescriptor } from './descriptors.js';
import { BackupHome } from './home.js';
import type { OperationState } from './operation-store.js';
import { readGlobalDescriptor, readNodeDescriptor } from './read-descriptors.js';

/**
 * A cluster's restore ends by creating its classes in the cluster's schema: each class as its backup
 * defines it (the node descriptors' `schema`), its shards on the nodes that restored them (the
 * restore's attachments, names mapped). Built from the provider and the recorded state, not from
 * memory, so a coordinator that adopted the restore ends it the same way.
 */

/**
 * The records of `state`'s restored classes, or none when the schema holds all of them already,
 * placed as restored (a coordinator that died after creating them; its successor only settles).
 * @throws BackupCorruptError when no node descriptor of the backup defines a restored class
 */
export async function restoredRecords(
  backend: BackupBackend,
  state: OperationState,
  db: Database,
): Promise<ClassRecord[]> {
  const placements = new Map<string, ShardRecord[]>();
  for (const attach of state.attaches ?? []) {
    const shards = placements.get(attach.class) ?? [];
    for (const name of attach.shards) shards.push({ name, node: attach.node ?? db.nodeName });
    placements.set(attach.class, shards);
  }
  if ([...placements].every(([name, shards]) => placedAs(db, name, shards))) return [];

  const global = await readGlobalDescriptor(backend, state.id, state.scope);
  const descriptors = new Map<string, NodeDescriptor | undefined>();
  const records: ClassRecord[] = [];
  for (const [name, shards] of placements) {
    const definition = await definitionOf(backend, state, global?.nodes ?? {}, descriptors, name);
    records.push({ definition, shards });
  }
  return records;
}

/** True when the schema holds class `name` with exactly `shards`. */
function placedAs(db: Database, name: string, shards: readonly ShardRecord[]): boolean {
  if (db.getClass(name) === undefined) return false;
  const placed = db.placement(name);
  return (
    placed.length === shards.length && shards.every((s) => placed.some((p) => p.name === s.name && p.node === s.node))
  );
}

/** Class `name` as the first node descriptor of the backup that holds it defines it. */
async function definitionOf(
  backend: BackupBackend,
  state: OperationState,
  nodes: Readonly<Record<string, { readonly classes: readonly string[] }>>,
  descriptors: Map<string, NodeDescriptor | undefined>,
  name: string,
): Promise<ClassRecord['definition']> {
  for (const [node, part] of Object.entries(nodes)) {
    if (!part.classes.includes(name)) continue;
    if (!descriptors.has(node)) {
      descriptors.set(node, await readNodeDescriptor(backend, state.id, node, state.scope));
    }
    const found = descriptors.get(node)?.classes.find((cls) => cls.name === name);
    if (found !== undefined) return found.schema;
  }
  throw new BackupCorruptError(new BackupHome(state.id).globalKey, `no node descriptor defines class ${name}`);
}
