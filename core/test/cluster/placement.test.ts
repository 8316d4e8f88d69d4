import test from 'ava';
import { placeShards } from '../../src/cluster/placement.js';
import { SHARD_NAME } from '../../src/db/names.js';

test('a class of one shard per node puts one on each node', (t) => {
  const shards = placeShards('Article', 3, ['node3', 'node1', 'node2']);
  t.deepEqual(shards.map((s) => s.node).sort(), ['node1', 'node2', 'node3']);
  t.true(shards.every((s) => SHARD_NAME.test(s.name) && s.name.length === 12));
  t.is(new Set(shards.map((s) => s.name)).size, 3);
});

test('more shards than nodes go round the nodes in name order, from a start the class name picks', (t) => {
  const nodes = ['a', 'b', 'c'];
  const shards = placeShards('Article', 7, nodes);
  const counts = nodes.map((node) => shards.filter((s) => s.node === node).length);
  t.deepEqual([...counts].sort(), [2, 2, 3]);
  const start = nodes.indexOf(shards[0]?.node as string);
  t.deepEqual(
    shards.map((s) => s.node),
    Array.from({ length: 7 }, (_, i) => nodes[(start + i) % 3]),
  );
  t.deepEqual(
    placeShards('article', 7, ['c', 'b', 'a']).map((s) => s.node),
    shards.map((s) => s.node),
    'the same start whatever the order of the nodes or the case of the name',
  );
});

test('classes of one shard each spread over the nodes instead of all landing on the first', (t) => {
  const nodes = ['node1', 'node2', 'node3'];
  const used = new Set(Array.from({ length: 30 }, (_, i) => placeShards(`Class${i}`, 1, nodes)[0]?.node));
  t.deepEqual([...used].sort(), nodes);
});
