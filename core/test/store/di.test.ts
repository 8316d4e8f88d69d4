import 'reflect-metadata';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { container } from 'tsyringe';
import { createLogger, StrataNode } from '../../src/node/index.js';
import {
  type KeyValueStore,
  LsmStore,
  LsmStoreFactory,
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

test("a node started with the embedder's container opens its shards through the embedder's store factory", async (t) => {
  const dataPath = await mkdtemp(join(tmpdir(), 'strata-di-node-'));
  t.teardown(() => rm(dataPath, { recursive: true, force: true }));
  const embedder = container.createChildContainer();
  const opened: string[] = [];
  const lsm = new LsmStoreFactory({});
  embedder.register(STORE_FACTORY, {
    useValue: {
      open(directory: string) {
        opened.push(directory);
        return lsm.open(directory);
      },
    } satisfies StoreFactory,
  });
  const node = await StrataNode.start({
    env: { PERSISTENCE_DATA_PATH: dataPath },
    port: 0,
    logger: createLogger('silent'),
    container: embedder,
  });
  t.teardown(() => node.stop());
  await node.db.createClass({ class: 'Article', shardingConfig: { desiredCount: 2 } });
  t.is(opened.length, 2, "the node's child container did not shadow the embedder's registration");
  t.true(opened.every((directory) => directory.startsWith(dataPath)));
});
