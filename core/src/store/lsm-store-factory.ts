import { type DependencyContainer, inject, injectable } from 'tsyringe';
import { BlockCache } from './block-cache.js';
import { type KeyValueStore, STORE_FACTORY, type StoreFactory } from './contract.js';
import { LsmStore, type LsmStoreOptions } from './lsm-store.js';
import { WriteBudget } from './write-budget.js';

/** DI token of the {@link LsmStoreOptions} the default factory opens stores with. */
export const STORE_OPTIONS = 'strata:LsmStoreOptions';

const MiB = 1024 * 1024;

/**
 * The default {@link StoreFactory}: opens an {@link LsmStore} per directory (one per shard). Every
 * store it opens shares one block cache (`blockCache`, else one of `blockCacheBytes`, default
 * 32 MiB) and one {@link WriteBudget} for their memtables (`writeBudget`, default 64 MiB), so a
 * node's store memory is bounded per node, not per shard. Each store's `memtableBytes` (default
 * 32 MiB) still bounds its own memtable.
 */
@injectable()
export class LsmStoreFactory implements StoreFactory {
  /** The budget every store this factory opens counts its memtables against. */
  readonly writeBudget: WriteBudget;
  readonly #options: LsmStoreOptions;

  constructor(@inject(STORE_OPTIONS) options: LsmStoreOptions) {
    this.writeBudget = options.writeBudget ?? new WriteBudget(64 * MiB);
    this.#options = {
      ...options,
      blockCache: options.blockCache ?? new BlockCache(options.blockCacheBytes ?? 32 * MiB),
      writeBudget: this.writeBudget,
    };
  }

  open(directory: string): Promise<KeyValueStore> {
    return LsmStore.open(directory, this.#options);
  }
}

/**
 * Registers the LSM store as `container`'s store factory, unless the embedder registered its own
 * implementation of the contract under {@link STORE_FACTORY} first.
 */
export function registerDefaultStore(container: DependencyContainer, options: LsmStoreOptions = {}): void {
  if (!container.isRegistered(STORE_OPTIONS, true)) container.register(STORE_OPTIONS, { useValue: options });
  if (!container.isRegistered(STORE_FACTORY, true)) container.register(STORE_FACTORY, { useClass: LsmStoreFactory });
}
