/**
 * A node's membership alone in a process of its own, for tests that crash it (SIGKILL): joins the
 * etcd at argv[2] as node argv[3] with data path id argv[4] and a TTL of argv[5] seconds, prints
 * `joined`, and stays until killed.
 */
import { connectEtcd, Membership } from '@strata/core/cluster';

const [endpoint = '', name = '', dataPathId = '', ttl = '2'] = process.argv.slice(2);
const client = await connectEtcd([endpoint]);
const self = { name, internalUrl: 'http://127.0.0.1:7900', version: '0.0.0-test' };
await Membership.join(client, self, { ttlSeconds: Number(ttl), dataPathId, onError: () => {} });
process.stdout.write('joined\n');
setInterval(() => {}, 60_000);
