/** Shards: a class's objects split over stores by a hash of their ids, each store owned by one node. */
import type { Bucket, KeyValueStore } from '../store/index.js';
import { OBJECTS_BUCKET } from './stored-object.js';

/** A shard of a class: one store directory, owned by one node. */
export class Shard {
  readonly name: string;
  readonly node: string;
  readonly store: KeyValueStore;
  readonly objects: Bucket;

  constructor(name: string, node: string, store: KeyValueStore) {
    this.name = name;
    this.node = node;
    this.store = store;
    this.objects = store.bucket(OBJECTS_BUCKET);
  }
}

/** Which of `count` shards an object id belongs to (FNV-1a of its 16 bytes). */
export function shardIndex(id: Uint8Array, count: number): number {
  let hash = 0x811c9dc5;
  for (const byte of id) hash = Math.imul(hash ^ byte, 0x01000193);
  return (hash >>> 0) % count;
}
