/**
 * The LSM store Strata's data lives in, and the contract the rest of core uses it through.
 * See docs/storage.md for the on-disk format and the guarantees.
 */
// tsyringe (the default factory's decorators) needs the Reflect metadata polyfill loaded first.
import 'reflect-metadata';

export { BlockCache } from './block-cache.js';
export type { SyncPolicy } from './commit-queue.js';
export {
  type BatchOperation,
  type Bucket,
  type Bytes,
  type Cursor,
  type Entry,
  type KeyValueStore,
  type ScanRange,
  STORE_FACTORY,
  type StoreFactory,
  type StoreFile,
} from './contract.js';
export { MAX_KEY_BYTES, MAX_VALUE_BYTES } from './internal-key.js';
export { acquireLock } from './lock.js';
export { LsmStore, type LsmStoreOptions, type StoreStats } from './lsm-store.js';
export { LsmStoreFactory, registerDefaultStore, STORE_OPTIONS } from './lsm-store-factory.js';
export { realFs, type StoreFs, syncDirectory, writeFully } from './vfs.js';
export { type BudgetedStore, WriteBudget } from './write-budget.js';
