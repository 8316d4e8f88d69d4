import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, StrataNode } from '@strata/core/node';
import { type CheckClock, currentClock, watchInPlace } from '../deadline.js';
import { type ConformanceAssertions, type ConformanceTest, collect } from '../harness.js';
import { FINISHED, type Json, type NodeApi, nodeApi, POLL_MS } from '../node-api.js';
import type { ClusterOptions, Subject } from '../subject.js';
import { type JourneyBackup, journeyBackup } from './journey-backup.js';

/**
 * The journey through a cluster, for modules that declare `capabilities.external`: three Strata
 * nodes in this process, joined through the caller's etcd, each with the module enabled as
 * `ENABLE_MODULES` enables it and a backend instance of its own, driven through their REST APIs as a
 * user would. What it shows of the provider: every node writes its own part of one backup, and any
 * node reads all of it back, so the storage really is shared.
 */

/** The nodes' names: fixed, so the etcd must be fresh (ConformanceOptions.cluster says so). */
const NODES = ['node1', 'node2', 'node3'] as const;
/** Short, so a node a failed run left behind lapses quickly; etcd raises it to its own minimum. */
const LEASE_TTL_SECONDS = 3;
/** Classes, their shard counts and object counts: 3 shards on 3 nodes, 2 on 2 of them. */
const CLASSES = [
  { name: 'ConformanceClusterArticle', shards: 3, objects: 600 },
  { name: 'ConformanceClusterAuthor', shards: 2, objects: 200 },
] as const;
/** A node that is not a member, for a `node_mapping` that must be refused. */
const ABSENT_NODE = 'conformance-absent-node';

/** One node of the journey's cluster. */
interface Member {
  readonly name: string;
  readonly node: StrataNode;
  readonly api: NodeApi;
}

interface ClusterJourney extends JourneyBackup {
  readonly members: readonly Member[];
  readonly clock: CheckClock;
}

/** The member named `name`. */
function member(journey: ClusterJourney, name: (typeof NODES)[number]): Member {
  return journey.members.find((m) => m.name === name) as Member;
}

/** Starts the three nodes, one after another, each joining the cluster the ones before it are in. */
async function startClusterJourney(
  t: ConformanceAssertions,
  subject: Subject,
  cluster: ClusterOptions,
): Promise<ClusterJourney> {
  const clock = currentClock();
  if (clock === undefined) throw new TypeError('a journey runs as a check of describeBackendConformance');
  const { options } = subject;
  // Teardowns run last first, each within its own deadline: the objects go even if a node hangs.
  const backup = journeyBackup(t, subject, 'cluster-journey');
  const members: Member[] = [];
  const dataPaths: string[] = [];
  t.teardown(async () => {
    // The classes leave etcd too, so that a run against an etcd used before does not trip on them.
    for (const { name } of CLASSES) await members[0]?.api.call('DELETE', `/v1/schema/${name}`).catch(() => {});
    await Promise.all(members.map((m) => m.node.stop()));
    await Promise.all(dataPaths.map((dataPath) => rm(dataPath, { recursive: true, force: true })));
  });
  for (const name of NODES) {
    const dataPath = await mkdtemp(join(tmpdir(), `strata-conformance-${name}-`));
    dataPaths.push(dataPath);
    const node = await StrataNode.start({
      env: {
        ...(options.env ?? process.env),
        ENABLE_MODULES: options.module,
        PERSISTENCE_DATA_PATH: dataPath,
        CLUSTER_ETCD_ENDPOINTS: cluster.etcdEndpoints.join(','),
        CLUSTER_HOSTNAME: name,
        CLUSTER_DATA_BIND_PORT: '0',
        CLUSTER_LEASE_TTL_SECONDS: String(LEASE_TTL_SECONDS),
      },
      ...(options.appDir === undefined ? {} : { appDir: options.appDir }),
      ...(options.container === undefined ? {} : { container: options.container }),
      port: 0,
      logger: createLogger('silent'),
    });
    // Each node's calls of its own backend are what a backup or restore waits on: a deadline names them.
    watchInPlace(node.modules.backend(subject.name), clock);
    members.push({ name, node, api: nodeApi(node.url, clock) });
  }
  const journey: ClusterJourney = { ...backup, members, clock };
  // Placement spreads shards over the members a node knows: every node must know all three first.
  await until(journey, 'every node listing the three nodes HEALTHY', async () => {
    const replies = await Promise.all(members.map((m) => m.api.call('GET', '/v1/nodes')));
    return replies.every(
      (reply) => reply.body?.nodes?.filter((n: Json) => n.status === 'HEALTHY').length === NODES.length,
    );
  });
  return journey;
}

/** Waits until `condition` holds, or fails the check at its deadline saying what it waited for. */
async function until(journey: ClusterJourney, what: string, condition: () => Promise<boolean>): Promise<void> {
  const { clock } = journey;
  try {
    clock.waitingFor(`waited for ${what} until the deadline (${clock.text})`);
    while (!(await condition())) {
      if (clock.expired) throw new Error(`waited for ${what} until the deadline (${clock.text})`);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  } finally {
    clock.waitingFor(undefined);
  }
}

/**
 * Polls a status URL on each of `members` at once until the operation has ended on all of them.
 * Every node must answer every poll with 200: a node that cannot say how an operation of the cluster
 * goes (Weaviate's #2585) fails the check. Resolves with the last replies, in the members' order.
 */
async function finishedOn(journey: ClusterJourney, members: readonly Member[], path: string): Promise<Json[]> {
  const { clock } = journey;
  try {
    for (;;) {
      const replies = await Promise.all(members.map((m) => m.api.call('GET', path)));
      for (const [i, reply] of replies.entries()) {
        if (reply.status !== 200) {
          const name = members[i]?.name;
          throw new Error(`GET ${path} on ${name} answered ${reply.status}: ${JSON.stringify(reply.body)}`);
        }
      }
      const statuses = replies.map((reply, i) => `${members[i]?.name} ${reply.body.status}`).join(', ');
      if (replies.every((reply) => FINISHED.has(reply.body.status))) return replies.map((reply) => reply.body);
      const stuck = `GET ${path} still answered ${statuses} at the deadline (${clock.text})`;
      clock.waitingFor(stuck);
      if (clock.expired) throw new Error(stuck);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  } finally {
    clock.waitingFor(undefined);
  }
}

/** The id of object `i` of class number `c`: fixed, so that every run spreads the objects alike. */
function objectId(c: number, i: number): string {
  return `00000000-0000-4000-8000-${(c * 1_000_000 + i).toString(16).padStart(12, '0')}`;
}

/** Creates the classes through `via` and imports their objects; resolves with the ids, by class. */
async function seed(via: Member): Promise<Map<string, Set<string>>> {
  const ids = new Map<string, Set<string>>();
  for (const [c, { name, shards, objects }] of CLASSES.entries()) {
    const created = await via.api.call('POST', '/v1/schema', {
      class: name,
      properties: [
        { name: 'title', dataType: ['text'] },
        { name: 'rank', dataType: ['int'] },
        { name: 'tags', dataType: ['text[]'] },
      ],
      shardingConfig: { desiredCount: shards },
    });
    if (created.status !== 200) throw new Error(`creating class ${name}: ${JSON.stringify(created.body)}`);
    const batch = Array.from({ length: objects }, (_, i) => ({
      class: name,
      id: objectId(c, i),
      properties: { title: `${name} ${i} ${'lorem ipsum '.repeat(i % 7)}`, rank: i, tags: [`t${i % 5}`] },
      vector: [i / objects, 0.5, (c + 1) / 4],
    }));
    const reply = await via.api.call('POST', '/v1/batch/objects', { objects: batch });
    const failed = Array.isArray(reply.body) ? reply.body.filter((o: Json) => o.result?.errors !== undefined) : [];
    if (reply.status !== 200 || failed.length > 0) {
      throw new Error(`importing ${name}: ${reply.status} ${JSON.stringify(failed[0] ?? reply.body).slice(0, 500)}`);
    }
    ids.set(name, new Set(batch.map((o) => o.id)));
  }
  return ids;
}

/** Every object of every class, read through `via` with all its fields, in id order. */
async function readAll(via: Member): Promise<Json[]> {
  const objects: Json[] = [];
  for (const { name } of CLASSES) {
    for (let after = ''; ; ) {
      const page = await via.api.call('GET', `/v1/objects?class=${name}&limit=500&include=vector${after}`);
      if (page.status !== 200) throw new Error(`listing ${name} through ${via.name}: ${JSON.stringify(page.body)}`);
      if (page.body.objects.length === 0) break;
      objects.push(...page.body.objects);
      after = `&after=${page.body.objects.at(-1).id}`;
    }
  }
  return objects;
}

/** Each node's object count per class of the journey: `{ node1: { Article: 210, ... }, ... }`. */
async function placement(via: Member): Promise<Record<string, Record<string, number>>> {
  const reply = await via.api.call('GET', '/v1/nodes?output=verbose');
  const counts: Record<string, Record<string, number>> = {};
  for (const node of reply.body.nodes as Json[]) {
    for (const shard of node.shards ?? []) {
      if (!CLASSES.some((c) => c.name === shard.class)) continue;
      const ofNode = counts[node.name] ?? {};
      ofNode[shard.class] = (ofNode[shard.class] ?? 0) + shard.objectCount;
      counts[node.name] = ofNode;
    }
  }
  return counts;
}

/** Every key of the backup, listed from the suite's own instance of the backend. */
async function backupKeys(subject: Subject, journey: ClusterJourney): Promise<string[]> {
  const keys: string[] = [];
  for await (const object of subject.backend.list(journey.home.prefix, journey.options)) keys.push(object.key);
  return keys;
}

async function readJson(subject: Subject, journey: ClusterJourney, key: string): Promise<Json> {
  return JSON.parse((await collect(await subject.backend.read(key, journey.options))).toString('utf8'));
}

/**
 * Checks what the backup left in the provider: a global descriptor naming every node that holds
 * shards of the classes, each with the classes it holds and SUCCESS, and each node's own descriptor
 * and chunks under its name.
 */
async function checkLayout(
  t: ConformanceAssertions,
  subject: Subject,
  journey: ClusterJourney,
  held: Record<string, Record<string, number>>,
): Promise<Json> {
  const { home } = journey;
  const keys = await backupKeys(subject, journey);
  const holders = Object.keys(held).sort();
  if (!keys.includes(home.globalKey)) {
    t.fail(`the backend lists no ${home.globalKey} after the backup succeeded; it lists ${keys.join(', ')}`);
    return undefined;
  }
  const global = await readJson(subject, journey, home.globalKey);
  t.deepEqual(Object.keys(global.nodes ?? {}).sort(), holders, `${home.globalKey} must name every node holding shards`);
  for (const name of holders) {
    const classes = Object.keys(held[name] ?? {}).sort();
    t.deepEqual([...(global.nodes?.[name]?.classes ?? [])].sort(), classes, `${name}'s classes in ${home.globalKey}`);
    t.is(global.nodes?.[name]?.status, 'SUCCESS', `${name}'s status in ${home.globalKey}`);
    const nodeHome = home.node(name);
    if (!keys.includes(nodeHome.descriptorKey)) {
      t.fail(`the backend lists no ${nodeHome.descriptorKey}: ${name} wrote no descriptor another node can see`);
      continue;
    }
    const descriptor = await readJson(subject, journey, nodeHome.descriptorKey);
    t.deepEqual(
      (descriptor.classes ?? []).map((c: Json) => c.name).sort(),
      classes,
      `the classes of ${nodeHome.descriptorKey}`,
    );
    const chunked = new Set(
      keys.map((key) => home.parse(key)).flatMap((o) => (o?.kind === 'chunk' && o.node === name ? [o.className] : [])),
    );
    t.deepEqual([...chunked].sort(), classes, `${name}'s chunks listed under the backup, by class`);
  }
  return global;
}

export function clusterJourneyChecks(test: ConformanceTest, subject: Subject, cluster: ClusterOptions): void {
  // Alone, as ava's serial checks run: three nodes starting in a process busy with the other checks'
  // 64 MiB objects saw their etcd calls miss core's 2 s deadline on a 2-core machine.
  (test.serial ?? test)(
    'cluster journey: three nodes back up two classes through node2, status alike on node1 and node3; a node_mapping onto a non-member is refused; restored through node3, every object is back where it was',
    async (t) => {
      const journey = await startClusterJourney(t, subject, cluster);
      const node1 = member(journey, 'node1');
      const node2 = member(journey, 'node2');
      const node3 = member(journey, 'node3');
      const classes = CLASSES.map((c) => c.name);
      const seeded = await seed(node1);
      const held = await placement(node1);
      t.deepEqual(Object.keys(held).sort(), [...NODES], 'every node must own objects of the journey (placement)');
      const before = await readAll(node1);
      t.deepEqual(
        before.map((o) => o.id).sort(),
        [...seeded.values()].flatMap((ids) => [...ids]).sort(),
        'node1 must list every object imported, wherever its shard is',
      );

      const backend = subject.name;
      const created = await node2.api.call('POST', `/v1/backups/${backend}`, {
        id: journey.id,
        include: classes,
        config: journey.config,
      });
      t.is(
        created.status,
        200,
        `creating the backup on node2 answered ${created.status}: ${JSON.stringify(created.body)}`,
      );
      if (created.status !== 200) return;
      const statusPath = `/v1/backups/${backend}/${journey.id}${journey.query}`;
      const [on1, on3] = await finishedOn(journey, [node1, node3], statusPath);
      t.is(on1.status, 'SUCCESS', `the backup ended ${on1.status} (as node1 says): ${on1.error}`);
      t.deepEqual(on3, on1, 'node3 must answer the backup status as node1 does');
      if (on1.status !== 'SUCCESS') return;
      const global = await checkLayout(t, subject, journey, held);
      if (global === undefined) return;

      for (const name of classes) {
        const deleted = await node1.api.call('DELETE', `/v1/schema/${name}`);
        t.is(deleted.status, 200, `deleting class ${name} answered ${deleted.status}`);
      }
      // Up front: a node of the backup that, mapped, is not a member refuses the restore before anything is written.
      const keysBefore = await backupKeys(subject, journey);
      const mapped = Object.keys(global.nodes)[0] as string;
      const refused = await node3.api.call('POST', `/v1/backups/${backend}/${journey.id}/restore`, {
        config: journey.config,
        node_mapping: { [mapped]: ABSENT_NODE },
      });
      t.is(refused.status, 422, `a restore mapping ${mapped} onto a non-member answered ${refused.status}, not 422`);
      t.true(
        JSON.stringify(refused.body).includes(ABSENT_NODE),
        `the refusal must name the node that is not a member: ${JSON.stringify(refused.body)}`,
      );
      t.deepEqual(
        await backupKeys(subject, journey),
        keysBefore,
        'a refused restore must write nothing to the backend',
      );
      for (const name of classes) {
        const schema = await node1.api.call('GET', `/v1/schema/${name}`);
        t.is(schema.status, 404, `a refused restore must create no class (${name})`);
      }

      const restoring = await node3.api.call('POST', `/v1/backups/${backend}/${journey.id}/restore`, {
        config: journey.config,
      });
      t.is(
        restoring.status,
        200,
        `starting the restore on node3 answered ${restoring.status}: ${JSON.stringify(restoring.body)}`,
      );
      if (restoring.status !== 200) return;
      const restorePath = `/v1/backups/${backend}/${journey.id}/restore${journey.query}`;
      const [restored1, restored2] = await finishedOn(journey, [node1, node2], restorePath);
      t.is(restored1.status, 'SUCCESS', `the restore ended ${restored1.status} (as node1 says): ${restored1.error}`);
      t.deepEqual(restored2, restored1, 'node2 must answer the restore status as node1 does');
      if (restored1.status !== 'SUCCESS') return;
      t.deepEqual(await readAll(node1), before, 'every object must come back with all its fields, read through node1');
      t.deepEqual(await placement(node1), held, 'every shard must come back on the node that held it');
    },
  );
}
