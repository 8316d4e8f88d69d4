/**
 * ClusterData's schema changes with the schema and the peers stood in for: a change answers once
 * every live peer has applied it (every class of a createClasses), not waiting for a peer that does
 * not answer, and for at most SPREAD_TIMEOUT_MS for one that never applies it.
 */
import 'reflect-metadata';
import test from 'ava';
import { ClusterData, SPREAD_TIMEOUT_MS } from '../../src/cluster/cluster-data.js';
import type { ClusterSchema } from '../../src/cluster/cluster-schema.js';
import type { NodeCalls } from '../../src/cluster/node-calls.js';
import type { ClassRecord, Database } from '../../src/db/index.js';
import { ClassExistsError, ClassNotFoundError, NodeUnavailableError } from '../../src/errors.js';

/** How a peer answers shardStats for a class: after `after` asks it has the class; `down` never answers. */
type Peer = { readonly after: number; readonly down?: boolean };

/** Peers that apply classes after some asks, and the schema of this node that creates and deletes at once. */
function setUp(peers: Record<string, Peer>, schema: Partial<ClusterSchema> = {}) {
  const asked = new Map<string, number>();
  const calls = {
    self: 'node1',
    peers: () => Object.keys(peers),
    async call(peer: string, name: string, args: { className: string }) {
      if (name !== 'shardStats') throw new TypeError(`unexpected call ${name}`);
      const key = `${peer}/${args.className}`;
      const n = (asked.get(key) ?? 0) + 1;
      asked.set(key, n);
      const { after, down } = peers[peer] as Peer;
      if (down === true) throw new NodeUnavailableError(peer, 'it is not a live member of the cluster');
      if (n <= after) throw new ClassNotFoundError(args.className);
      return [];
    },
  };
  const stood = {
    createClasses: async () => {},
    createClass: async (input: { class: string }) => ({ class: input.class }),
    deleteClass: async () => true,
    ...schema,
  };
  const data = new ClusterData({} as Database, stood as unknown as ClusterSchema, calls as unknown as NodeCalls);
  /** Which classes `peer` was last seen to have. */
  const seen = (peer: string) =>
    [...asked]
      .filter(([key, n]) => key.startsWith(`${peer}/`) && n > (peers[peer]?.after ?? 0))
      .map(([key]) => key.slice(peer.length + 1))
      .sort();
  return { data, asked, seen };
}

const record = (name: string): ClassRecord => ({
  definition: { class: name } as ClassRecord['definition'],
  shards: [{ name: 'AaaaBbbb', node: 'node2' }],
});

test('createClasses answers once every live peer has every class', async (t) => {
  const { data, seen } = setUp({ node2: { after: 3 }, node3: { after: 0 } });
  await data.createClasses([record('article'), record('Other'), record('Third')]);
  t.deepEqual(seen('node2'), ['Article', 'Other', 'Third'], 'asked by capitalized name, each until it had it');
  t.deepEqual(seen('node3'), ['Article', 'Other', 'Third']);
});

test('createClasses does not wait for a peer that does not answer', async (t) => {
  const { data, seen, asked } = setUp({ node2: { after: 1 }, node3: { after: 0, down: true } });
  const start = Date.now();
  await data.createClasses([record('Article'), record('Other')]);
  t.true(Date.now() - start < SPREAD_TIMEOUT_MS, 'not the timeout');
  t.deepEqual(seen('node2'), ['Article', 'Other']);
  t.is(asked.get('node3/Article'), 1, 'given up on at its first failure');
  t.is(asked.get('node3/Other'), undefined);
});

test('createClasses waits at most SPREAD_TIMEOUT_MS in all for a peer that never applies the classes', async (t) => {
  const { data } = setUp({ node2: { after: Number.POSITIVE_INFINITY } });
  const start = Date.now();
  await data.createClasses([record('Article'), record('Other')]);
  const took = Date.now() - start;
  t.true(took >= SPREAD_TIMEOUT_MS && took < SPREAD_TIMEOUT_MS * 2, `took ${took} ms`);
});

test('createClasses asks no peer when the schema refuses the classes', async (t) => {
  const { data, asked } = setUp(
    { node2: { after: 0 } },
    {
      createClasses: async () => {
        throw new ClassExistsError('Article');
      },
    },
  );
  await t.throwsAsync(data.createClasses([record('Article')]), { code: 'STRATA_DB_CLASS_EXISTS' });
  t.is(asked.size, 0);
});

test('createClass and deleteClass still wait for the peers, for the one class', async (t) => {
  const created = setUp({ node2: { after: 2 } });
  await created.data.createClass({ class: 'Article' });
  t.deepEqual(created.seen('node2'), ['Article']);
  // Deleted: the peer answers ClassNotFoundError from its first ask on, which is what is waited for.
  const deleted = setUp({ node2: { after: Number.POSITIVE_INFINITY } });
  t.true(await deleted.data.deleteClass('article'));
  t.is(deleted.asked.get('node2/Article'), 1, 'asked once: gone at the first ask');
});
