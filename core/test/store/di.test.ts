import 'reflect-metadata';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { container } from 'tsyringe';
import {
  type KeyValueStore,
  LsmStore,
  registerDefaultStore,
  STORE_FACTORY,
  type StoreFactory,
} from '../../src/store/index.js';

test('the store is resolved from the DI container by the StoreFactory token', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'strata-di-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const child = container.createChildContainer();
  registerDefaultStore(child, { sync: { mode: 'always' } });
  const store = await child.resolve<StoreFactory>(STORE_FACTORY).open(dir);
  t.true(store instanceof LsmStore);
  await store.bucket('data').put('k', 'v');
  t.is((await store.bucket('data').get('k'))?.toString(), 'v');
  await store.close();
});

test('an embedder can supply another implementation of the store contract', async (t) => {
  const child = container.createChildContainer();
  const opened: string[] = [];
  const custom: StoreFactory = {
    async open(directory) {
      opened.push(directory);
      return { directory } as KeyValueStore;
    },
  };
  child.register(STORE_FACTORY, { useValue: custom });
  registerDefaultStore(child); // does not replace the embedder's registration
  await child.resolve<StoreFactory>(STORE_FACTORY).open('/elsewhere');
  t.deepEqual(opened, ['/elsewhere']);
});
