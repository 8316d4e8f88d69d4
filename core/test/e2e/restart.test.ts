import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import type { StrataError } from '../../src/errors.js';
import { StrataNode } from '../../src/node/index.js';
import { request, serveInChild, startNode } from '../helpers/node.js';

test('a restarted node keeps its schema and objects', async (t) => {
  const dataPath = await mkdtemp(join(tmpdir(), 'strata-restart-'));
  t.teardown(() => rm(dataPath, { recursive: true, force: true }));
  const first = await startNode(t, {}, { dataPath });
  await first.request('POST', '/v1/schema', {
    class: 'Note',
    properties: [{ name: 'text', dataType: ['text'] }],
    shardingConfig: { desiredCount: 2 },
  });
  const ids: string[] = [];
  for (let i = 0; i < 30; i++)
    ids.push(
      (await first.request('POST', '/v1/objects', { class: 'Note', properties: { text: `note ${i}` } })).body.id,
    );
  await first.stop();

  const second = await startNode(t, {}, { dataPath });
  t.is((await second.request('GET', '/v1/schema/Note')).body.shardingConfig.desiredCount, 2);
  for (const [i, id] of ids.entries()) {
    t.is((await second.request('GET', `/v1/objects/Note/${id}`)).body.properties.text, `note ${i}`);
  }
});

test('a second node on the same data path is refused with a clear message', async (t) => {
  const { dataPath } = await startNode(t);
  const error = (await StrataNode.start({ env: { PERSISTENCE_DATA_PATH: dataPath }, port: 0 }).catch(
    (e: unknown) => e,
  )) as StrataError;
  t.is(error.code, 'STRATA_DATA_PATH_LOCKED');
  t.is(
    error.message,
    `PERSISTENCE_DATA_PATH ${dataPath} is in use by another Strata node (this process (pid ${process.pid}), which has ` +
      'it open already). Stop that node, or start this one with another PERSISTENCE_DATA_PATH.',
  );
});

test('strata serve on SIGTERM finishes, flushes every store and exits 0; --port 0 names its port', async (t) => {
  const dataPath = await mkdtemp(join(tmpdir(), 'strata-serve-'));
  t.teardown(() => rm(dataPath, { recursive: true, force: true }));
  t.timeout(30_000, 'a graceful stop must not wait out the keep-alive timeout of idle sockets (72 s)');
  const { child, url, output, exited } = await serveInChild(t, { PERSISTENCE_DATA_PATH: dataPath });
  t.not(url, 'http://127.0.0.1:0');
  await request(url, 'POST', '/v1/schema', { class: 'Item', properties: [{ name: 'n', dataType: ['int'] }] });
  const writes = Array.from({ length: 50 }, (_, n) =>
    request(url, 'POST', '/v1/objects', { class: 'Item', properties: { n } }),
  );
  const settled = Promise.allSettled(writes);
  await Promise.race(writes); // the node is serving; the other writes are in flight or queued
  child.kill('SIGTERM');
  t.is(await exited, 0);
  const replies = await settled;
  const acknowledged = replies.flatMap((reply) =>
    reply.status === 'fulfilled' && reply.value.status === 200 ? [reply.value.body] : [],
  );
  // A request that arrives once the stop has begun is turned away (503 or a refused connection);
  // one that was accepted finishes, and its write survives.
  t.true(
    replies.every((reply) => reply.status === 'rejected' || [200, 503].includes(reply.value.status)),
    JSON.stringify(
      replies.map((reply) => (reply.status === 'fulfilled' ? reply.value.status : reply.reason.cause?.code)),
    ),
  );
  const [shard] = await readdir(join(dataPath, 'item'));
  const files = await readdir(join(dataPath, 'item', shard as string));
  t.false(
    files.some((name) => name.startsWith('wal-')),
    `a graceful stop flushes: ${files.join(', ')}`,
  );
  t.true(output().includes('"msg":"Strata node stopped"'));
  const again = await startNode(t, {}, { dataPath });
  for (const { id, properties } of acknowledged) {
    t.deepEqual((await again.request('GET', `/v1/objects/Item/${id}`)).body.properties, properties);
  }
});
