import test from 'ava';
import { Etcd3 } from 'etcd3';
import { startEtcd } from '../src/index.js';

// etcd3 is @strata/core's etcd client (see the README's choices); its own CI tests etcd 3.1 to 3.3.
test('the etcd3 client puts and gets a key on the launched etcd', async (t) => {
  const etcd = await startEtcd();
  t.teardown(() => etcd.stop());
  const client = new Etcd3({ hosts: etcd.endpoint });
  t.teardown(() => client.close());
  const { version } = await client.maintenance.status();
  t.log(`etcd ${version}`);
  t.regex(version, /^3\.\d+\.\d+/);
  await client.put('strata/client').value('works');
  t.is(await client.get('strata/client').string(), 'works');
});
