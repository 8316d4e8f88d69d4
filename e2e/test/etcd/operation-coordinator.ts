/**
 * A coordinator alone in a process of its own, for tests that kill it (SIGKILL) or stall it (SIGSTOP
 * past its lease, then SIGCONT): joins the etcd at argv[2] as node argv[3] with a TTL of argv[4]
 * seconds, puts the operation state argv[5] (JSON) and prints `claimed`. Then each line `put <json>`
 * on stdin puts that state and prints `put ok`, or `put failed <code>: <message>`.
 */
import { createInterface } from 'node:readline';
import { connectEtcd, EtcdOperationStore, Membership } from '@strata/core/cluster';

const [endpoint = '', name = '', ttl = '2', state = '{}'] = process.argv.slice(2);
const client = await connectEtcd([endpoint]);
const self = { name, internalUrl: 'http://127.0.0.1:7901', version: '0.0.0-test' };
const membership = await Membership.join(client, self, {
  ttlSeconds: Number(ttl),
  dataPathId: `dp-${name}`,
  onError: () => {},
});
const store = new EtcdOperationStore(client, { node: name, leaseId: () => membership.leaseId, onError: () => {} });
await store.put(JSON.parse(state));
process.stdout.write('claimed\n');

for await (const line of createInterface({ input: process.stdin })) {
  if (!line.startsWith('put ')) continue;
  try {
    await store.put(JSON.parse(line.slice(4)));
    process.stdout.write('put ok\n');
  } catch (error) {
    const { code = '-', message } = error as { code?: string; message: string };
    process.stdout.write(`put failed ${code}: ${message}\n`);
  }
}
