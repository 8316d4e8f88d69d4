import {
  type ClusterNode,
  type FaultPlan,
  type StrataCluster,
  startCluster,
  startFaultProxy,
  startS3Server,
} from '@strata/testing';
import test, { type ExecutionContext } from 'ava';
import {
  createSpreadClasses,
  FINISHED,
  finished,
  keysUnder,
  readJson,
  s3Backend,
  seedSpread,
} from '../../src/backup-helpers.js';
import { waitFor } from '../../src/cluster-helpers.js';

// Crashes and stalls during a backup across three node processes on etcd (lease TTL 2 s): whatever
// dies, the backup ends SUCCESS or FAILED with a reason, read from every surviving node, within the
// lease's TTL and a few seconds. The coordinator is a fourth node holding no shard, so killing it
// leaves every participant going, unless a test kills a participant on purpose.

const TTL_S = 2;
/** A hold never let go: the held request's process is killed, and the proxy then drops it. */
const NEVER = new Promise<void>(() => {});
/** The bound the docs state for an adoption: the lease's TTL, and a few seconds for the rest. */
const ADOPTION_BOUND_MS = TTL_S * 1000 + 5000;

/** A PUT of `key` of the backup through the proxy (s3rver's path-style URLs: /<bucket>/<key>). */
const puts = (url: string, method: string, key: RegExp) => method === 'PUT' && key.test(url.split('?')[0] ?? '');
const CHUNK = /\/chunk-\d+$/;
const GLOBAL = /\/backup_config\.json$/;
const NODE_DESCRIPTOR = /\/node\d\/backup\.json$/;

/** s3rver behind a proxy applying `plan`, three nodes with classes and objects, and a fourth node with no shard. */
async function setUp(t: ExecutionContext, plan: FaultPlan) {
  const s3 = await startS3Server({ buckets: ['backups'] });
  t.teardown(() => s3.stop());
  const proxy = await startFaultProxy(s3.endpoint);
  t.teardown(() => proxy.stop());
  const env = { ENABLE_MODULES: 'backup-s3', ...s3.env('backups'), BACKUP_S3_ENDPOINT: proxy.endpoint };
  const cluster = await startCluster({ nodes: 3, env, leaseTtlSeconds: TTL_S });
  t.teardown(() => cluster.stop());
  const [node1] = cluster.nodes as [ClusterNode];
  await createSpreadClasses(node1);
  await seedSpread(node1, 200);
  const node4 = await cluster.startNode('node4');
  proxy.setPlan(plan);
  const { backend, close } = await s3Backend(s3.env('backups'));
  t.teardown(close);
  return { s3, proxy, cluster, nodes: cluster.nodes as [ClusterNode, ClusterNode, ClusterNode], node4, backend };
}

/** Waits until `node` answers `path` with one of `statuses`. */
function statusOn(node: ClusterNode, path: string, statuses: readonly string[], timeoutMs = 30_000) {
  return waitFor(`${path} ${statuses.join('|')} on ${node.name}`, timeoutMs, async () => {
    const { status, body } = await node.request('GET', path);
    return status === 200 && statuses.includes(body.status) ? body : undefined;
  });
}

/** The outcome every node of `nodes` reads, once finished; checks they agree. */
async function outcomeOnEvery(t: ExecutionContext, nodes: readonly ClusterNode[], path: string, timeoutMs: number) {
  const bodies = await Promise.all(nodes.map((node) => finished(node, path, timeoutMs)));
  const [first] = bodies;
  for (const body of bodies) t.like(body, { status: first.status, error: first.error });
  return first;
}

/** Waits until `check` holds (one proxied request matching, say). */
const until = (what: string, check: () => boolean, timeoutMs = 20_000) =>
  waitFor(what, timeoutMs, async () => (check() ? true : undefined));

test.serial(
  'the coordinator killed before its participants were committed: another node ends the backup FAILED, naming it, within the bound',
  async (t) => {
    // A CANCELED backup's id is taken again: the coordinator records the new run, then deletes what the
    // canceled one wrote before it prepares anyone. That deletion is held, and the coordinator dies.
    let stallChunks = true;
    let held = false;
    const { nodes, node4, backend } = await setUp(t, ({ method, url }) => {
      if (stallChunks && puts(url, method, CHUNK)) return { kind: 'stall', ms: 1500 };
      if (!stallChunks && !held && method === 'DELETE' && NODE_DESCRIPTOR.test(url.split('?')[0] ?? '')) {
        held = true;
        return { kind: 'hold', until: NEVER };
      }
      return undefined;
    });
    t.is((await node4.request('POST', '/v1/backups/s3', { id: 'early' })).status, 200);
    await statusOn(nodes[0], '/v1/backups/s3/early', ['TRANSFERRING']);
    t.is((await nodes[1].request('DELETE', '/v1/backups/s3/early')).status, 204);
    stallChunks = false;
    const created = node4.request('POST', '/v1/backups/s3', { id: 'early' });
    await until('the deletion of the canceled run held', () => held);
    await node4.kill();
    const killed = Date.now();
    t.is((await created.catch(() => ({ status: 0 }))).status, 0, 'the create never answered');
    const outcome = await outcomeOnEvery(t, nodes, '/v1/backups/s3/early', ADOPTION_BOUND_MS);
    const tookMs = Date.now() - killed;
    t.log(`FAILED on every node ${tookMs} ms after the kill`);
    t.is(outcome.status, 'FAILED');
    t.is(outcome.error, 'coordinator node4 stopped before the backup started');
    t.true(tookMs < ADOPTION_BOUND_MS);
    t.deepEqual(await keysUnder(backend, 'early/'), ['early/backup_config.json'], 'nothing but the FAILED descriptor');
    t.is((await readJson(backend, 'early/backup_config.json')).status, 'FAILED');
    t.is((await nodes[0].request('POST', '/v1/backups/s3', { id: 'again' })).status, 200, 'the cluster is free again');
    t.is((await finished(nodes[1], '/v1/backups/s3/again')).status, 'SUCCESS');
  },
);

test.serial(
  'the coordinator killed as it writes the first descriptor, its participants committed: the adopter finishes the backup SUCCESS',
  async (t) => {
    let held = false;
    const { nodes, node4, backend } = await setUp(t, ({ method, url }) => {
      if (!held && puts(url, method, GLOBAL)) {
        held = true;
        return { kind: 'hold', until: NEVER };
      }
      return undefined;
    });
    const created = node4.request('POST', '/v1/backups/s3', { id: 'committed' });
    await until('the STARTED descriptor held', () => held);
    await node4.kill();
    const killed = Date.now();
    t.is((await created.catch(() => ({ status: 0 }))).status, 0, 'the create never answered');
    const outcome = await outcomeOnEvery(t, nodes, '/v1/backups/s3/committed', 60_000);
    t.log(`SUCCESS on every node ${Date.now() - killed} ms after the kill`);
    t.is(outcome.status, 'SUCCESS', JSON.stringify(outcome));
    t.not((await readJson(backend, 'committed/backup_config.json')).leader, 'node4');
  },
);

test.serial(
  'the coordinator killed mid-upload: another node adopts the backup and its participants finish it SUCCESS',
  async (t) => {
    let stall = true;
    const { nodes, node4, backend } = await setUp(t, ({ method, url }) =>
      stall && puts(url, method, CHUNK) ? { kind: 'stall', ms: 1500 } : undefined,
    );
    t.is((await node4.request('POST', '/v1/backups/s3', { id: 'adopted' })).status, 200);
    await statusOn(nodes[0], '/v1/backups/s3/adopted', ['TRANSFERRING']);
    await node4.kill();
    const killed = Date.now();
    stall = false;
    const outcome = await outcomeOnEvery(t, nodes, '/v1/backups/s3/adopted', 60_000);
    t.log(`SUCCESS on every node ${Date.now() - killed} ms after the kill`);
    t.is(outcome.status, 'SUCCESS', JSON.stringify(outcome));
    const global = await readJson(backend, 'adopted/backup_config.json');
    t.is(global.status, 'SUCCESS');
    t.not(global.leader, 'node4', 'written by the node that adopted it');
    t.deepEqual(Object.keys(global.nodes).sort(), ['node1', 'node2', 'node3']);
    for (const node of ['node1', 'node2', 'node3']) {
      t.true((await keysUnder(backend, `adopted/${node}/`)).includes(`adopted/${node}/backup.json`));
    }
    // The adopted backup restores.
    for (const name of ['Article', 'Note', 'Tag'])
      t.is((await nodes[0].request('DELETE', `/v1/schema/${name}`)).status, 200);
    t.is((await nodes[1].request('POST', '/v1/backups/s3/adopted/restore', {})).status, 200);
    t.is((await finished(nodes[2], '/v1/backups/s3/adopted/restore')).status, 'SUCCESS');
    t.is((await nodes[0].request('GET', '/v1/objects?class=Article&limit=1000')).body.objects.length, 200);
  },
);

test.serial(
  'the coordinator killed while writing the global descriptor at the end: the backup ends SUCCESS, written by its successor',
  async (t) => {
    let nodeDescriptors = 0;
    let held = false;
    const { nodes, node4, backend } = await setUp(t, ({ method, url }) => {
      if (puts(url, method, NODE_DESCRIPTOR)) nodeDescriptors += 1;
      else if (!held && nodeDescriptors === 3 && puts(url, method, GLOBAL)) {
        held = true;
        return { kind: 'hold', until: NEVER };
      }
      return undefined;
    });
    t.is((await node4.request('POST', '/v1/backups/s3', { id: 'late' })).status, 200);
    await until('a global descriptor held after every node descriptor', () => held);
    await node4.kill();
    const killed = Date.now();
    // The outcome may be recorded in etcd before the held write: every node answers it at once...
    const outcome = await outcomeOnEvery(t, nodes, '/v1/backups/s3/late', ADOPTION_BOUND_MS);
    t.is(outcome.status, 'SUCCESS', JSON.stringify(outcome));
    // ...and the node that adopts it writes it to the provider.
    const global = await waitFor('SUCCESS in the provider', ADOPTION_BOUND_MS, async () => {
      const descriptor = await readJson(backend, 'late/backup_config.json');
      return descriptor.status === 'SUCCESS' ? descriptor : undefined;
    });
    t.log(`SUCCESS in the provider ${Date.now() - killed} ms after the kill`);
    t.not(global.leader, 'node4');
  },
);

test.serial(
  'a participant killed mid-upload: the backup ends FAILED naming it, and no chunk of any node is left',
  async (t) => {
    let stall = true;
    const { s3, nodes, node4, backend } = await setUp(t, ({ method, url }) =>
      stall && puts(url, method, CHUNK) ? { kind: 'stall', ms: 1500 } : undefined,
    );
    t.is((await node4.request('POST', '/v1/backups/s3', { id: 'broken' })).status, 200);
    await statusOn(node4, '/v1/backups/s3/broken', ['TRANSFERRING']);
    await nodes[2].kill();
    stall = false;
    const outcome = await outcomeOnEvery(t, [nodes[0], nodes[1], node4], '/v1/backups/s3/broken', 30_000);
    t.is(outcome.status, 'FAILED');
    t.regex(outcome.error, /node3/, 'the reason names the node');
    t.log(outcome.error);
    t.deepEqual(await keysUnder(backend, 'broken/'), ['broken/backup_config.json'], 'no chunk left');
    t.deepEqual(await s3.openUploads('backups'), [], 'no unfinished upload left');
    const global = await readJson(backend, 'broken/backup_config.json');
    t.is(global.status, 'FAILED');
    t.regex(global.nodes.node3.error, /node3/);
  },
);

test.serial(
  'a coordinator frozen past its lease: another node finishes the backup, and the frozen one, thawed, writes nothing over it',
  async (t) => {
    let stall = true;
    const { nodes, node4, backend } = await setUp(t, ({ method, url }) =>
      stall && puts(url, method, CHUNK) ? { kind: 'stall', ms: 1500 } : undefined,
    );
    t.is((await node4.request('POST', '/v1/backups/s3', { id: 'frozen' })).status, 200);
    // Frozen once its TRANSFERRING write is in the provider: waiting on its participants, as a
    // coordinator is nearly all the time. (One frozen between a put and the provider write it guards
    // can still land that write when it thaws: docs/cluster.md says so.)
    await waitFor('TRANSFERRING in the provider', 20_000, async () =>
      (await readJson(backend, 'frozen/backup_config.json').catch(() => undefined))?.status === 'TRANSFERRING'
        ? true
        : undefined,
    );
    node4.signal('SIGSTOP');
    stall = false;
    const outcome = await outcomeOnEvery(t, nodes, '/v1/backups/s3/frozen', 60_000);
    t.is(outcome.status, 'SUCCESS', JSON.stringify(outcome));
    const successor = (await readJson(backend, 'frozen/backup_config.json')).leader;
    t.not(successor, 'node4');
    node4.signal('SIGCONT');
    await waitFor('node4 hands the backup over', 20_000, async () =>
      /frozen: .*coordinated by node|left to another node|no more: its lease lapsed/.test(node4.output())
        ? true
        : undefined,
    );
    const after = await readJson(backend, 'frozen/backup_config.json');
    t.is(after.leader, successor, "the outcome is the successor's");
    t.is(after.status, 'SUCCESS');
    t.is(
      (await node4.request('GET', '/v1/backups/s3/frozen')).body.status,
      'SUCCESS',
      'and the thawed node answers it',
    );
  },
);

test.serial('etcd restarted mid-backup: the backup goes on and ends SUCCESS', async (t) => {
  let stall = true;
  const { nodes, node4, cluster } = await setUp(t, ({ method, url }) =>
    stall && puts(url, method, CHUNK) ? { kind: 'stall', ms: 1500 } : undefined,
  );
  t.is((await node4.request('POST', '/v1/backups/s3', { id: 'bumpy' })).status, 200);
  await statusOn(nodes[0], '/v1/backups/s3/bumpy', ['TRANSFERRING']);
  await (cluster as StrataCluster).etcd.restart();
  stall = false;
  const outcome = await outcomeOnEvery(t, [...nodes, node4], '/v1/backups/s3/bumpy', 60_000);
  t.is(outcome.status, 'SUCCESS', JSON.stringify(outcome));
  t.true(FINISHED.includes(outcome.status));
});
