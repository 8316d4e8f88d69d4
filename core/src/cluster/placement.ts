/**
 * Where a new class's shards go: spread over the live nodes one after another, starting at a node
 * picked by the class name, so classes of one shard each do not all land on the same node.
 */
import { createHash } from 'node:crypto';
import { newShardName, type ShardRecord } from '../db/index.js';

/**
 * `count` shards of class `className` over `nodes` (live node names, any order; at least one): shard
 * i on the node i places after the class's starting node, in name order.
 */
export function placeShards(className: string, count: number, nodes: readonly string[]): ShardRecord[] {
  const sorted = [...nodes].sort();
  const start = createHash('sha256').update(className.toLowerCase()).digest().readUInt32BE(0) % sorted.length;
  return Array.from({ length: count }, (_, i) => ({
    name: newShardName(),
    node: sorted[(start + i) % sorted.length] as string,
  }));
}
