/**
 * Which shard an object id belongs to, and the open shard that serves it. Routing uses the class
 * record's full shard list, so every node of a cluster maps an id to the same shard whichever
 * shards it has open; a node that does not have that shard open refuses the object.
 */
import { ShardNotLocalError } from '../errors.js';
import type { ClassRecord, ShardRecord } from './schema-file.js';
import type { LiveClass } from './schema-registry.js';
import { type Shard, shardIndex } from './shard.js';
import { uuidBytes } from './uuid.js';

/** The shard of `record` that object `id` (a UUID) belongs to, with the node that owns it. */
export function shardRecordFor(record: ClassRecord, id: string): ShardRecord {
  return record.shards[shardIndex(uuidBytes(id), record.shards.length)] as ShardRecord;
}

/**
 * The open shard of `live` that object `id` (a UUID) belongs to.
 * @throws ShardNotLocalError when this node does not have that shard open.
 */
export function openShardFor(live: LiveClass, id: string): Shard {
  const index = shardIndex(uuidBytes(id), live.record.shards.length);
  const wanted = live.record.shards[index] as ShardRecord;
  // Where every shard is open (a single node), the open shards are the record's, in its order.
  const same = live.shards[index];
  const shard = same?.name === wanted.name ? same : live.shards.find((open) => open.name === wanted.name);
  if (shard === undefined) throw new ShardNotLocalError(live.record.definition.class, wanted.name, wanted.node);
  return shard;
}
