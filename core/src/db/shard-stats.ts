/**
 * How many objects each shard holds, counted on request from its store (keys only, nothing decoded),
 * letting the event loop turn as it goes. Weaviate counts in the background and answers an estimate;
 * this is exact, at the cost of a pass over the keys.
 */
import { TimeSlice } from '../time-slice.js';
import type { LiveClass } from './schema-registry.js';

/** A shard of a class and the objects in it. */
export interface ShardStats {
  readonly class: string;
  readonly name: string;
  readonly node: string;
  readonly objectCount: number;
}

/** The shards of `classes`, each with its object count, in schema order. */
export async function countShards(classes: readonly LiveClass[]): Promise<ShardStats[]> {
  const slice = new TimeSlice();
  const stats: ShardStats[] = [];
  for (const live of classes) {
    for (const shard of live.shards) {
      const cursor = shard.objects.cursor();
      let objectCount = 0;
      try {
        for (let entry = await cursor.seek(undefined); entry !== undefined; entry = await cursor.next()) {
          objectCount++;
          if (slice.due) await slice.next();
        }
      } finally {
        cursor.close();
      }
      stats.push({ class: live.record.definition.class, name: shard.name, node: shard.node, objectCount });
    }
  }
  return stats;
}
