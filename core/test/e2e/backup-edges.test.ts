import 'reflect-metadata';
import * as fs from 'node:fs';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import test from 'ava';
import { container as globalContainer } from 'tsyringe';
import { createLogger, StrataNode } from '../../src/node/index.js';
import { filesystemModule, holdChunks, readAll, seed, startBackupNode, waitFor } from '../helpers/backups.js';
import { request } from '../helpers/node.js';

// The edges of an operation's life: a cancel that races its create call, a node that dies after a
// restore attached its classes, ids every endpoint judges alike, and damaged descriptors that must not
// break the reads of the others.

test('a cancel sent while the create call is in flight reads CANCELLING at once, then CANCELED; the slot frees', async (t) => {
  const node = await startBackupNode(t);
  await seed(node, 'Article', 20);
  const backend = node.node.modules.backend('filesystem');
  const checkAccess = backend.checkAccess.bind(backend);
  let release = () => {};
  let reached = () => {};
  const inCheck = new Promise<void>((resolve) => {
    reached = resolve;
  });
  backend.checkAccess = async (options) => {
    reached();
    await new Promise<void>((resolve) => {
      release = resolve;
    });
    return checkAccess(options);
  };
  t.teardown(() => {
    backend.checkAccess = checkAccess;
  });

  const created = node.request('POST', '/v1/backups/filesystem', { id: 'raced' });
  await inCheck;
  const canceled = node.request('DELETE', '/v1/backups/filesystem/raced');
  let status = await node.request('GET', '/v1/backups/filesystem/raced');
  for (let i = 0; i < 50 && status.body.status !== 'CANCELLING'; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    status = await node.request('GET', '/v1/backups/filesystem/raced');
  }
  t.is(status.body.status, 'CANCELLING', 'the accepted cancel shows at once');
  release();
  t.is((await created).status, 200);
  t.is((await canceled).status, 204);
  t.like((await node.request('GET', '/v1/backups/filesystem/raced')).body, {
    status: 'CANCELED',
    error: 'backup canceled by user',
  });
  backend.checkAccess = checkAccess;
  t.is((await node.request('POST', '/v1/backups/filesystem', { id: 'next' })).status, 200, 'the slot is free');
  t.is((await waitFor(node, '/v1/backups/filesystem/next')).body.status, 'SUCCESS');
});

test('a node that dies after a restore attached its classes reports it SUCCESS on restart, not FAILED', async (t) => {
  const source = await startBackupNode(t);
  const objects = await seed(source, 'Article', 300, 2);
  await source.request('POST', '/v1/backups/filesystem', { id: 'attached' });
  t.is((await waitFor(source, '/v1/backups/filesystem/attached')).body.status, 'SUCCESS');
  await source.request('DELETE', '/v1/schema/Article');

  // Hold the restore's last write (its outcome) once the classes are attached, and copy the data
  // path meanwhile: the copy is what a crash at that moment leaves on disk.
  const backend = source.node.modules.backend('filesystem');
  const write = backend.write.bind(backend);
  let attached = () => {};
  const atOutcome = new Promise<void>((resolve) => {
    attached = resolve;
  });
  let fail = () => {};
  const failed = new Promise<void>((resolve) => {
    fail = resolve;
  });
  backend.write = async (key, body, options) => {
    if (key === 'attached/restore_config.json' && source.node.db.getClass('Article') !== undefined) {
      attached();
      await failed;
      throw new Error('the node died');
    }
    return write(key, body, options);
  };
  t.teardown(() => {
    backend.write = write;
    fail();
  });
  await source.request('POST', '/v1/backups/filesystem/attached/restore', {});
  await atOutcome;
  const crashed = await mkdtemp(join(tmpdir(), 'strata-crashed-'));
  t.teardown(() => rm(crashed, { recursive: true, force: true }));
  await cp(source.dataPath, crashed, { recursive: true });
  t.like((await source.request('GET', '/v1/backups/filesystem/attached/restore')).body, { status: 'FINALIZING' });

  const restarted = await startBackupNode(t, {}, { dataPath: crashed, backups: source.backups });
  t.like((await restarted.request('GET', '/v1/backups/filesystem/attached/restore')).body, {
    status: 'SUCCESS',
  });
  t.deepEqual(await readAll(restarted, 'Article'), objects, 'every object is back');
  t.truthy(restarted.logs.find((line) => /^marked restore attached SUCCESS/.test(String(line.msg))));
});

test('every endpoint that takes a backup id refuses an invalid one with 422, before anything else', async (t) => {
  const node = await startBackupNode(t);
  const long = 'a'.repeat(300);
  for (const id of ['Bad.Id', long]) {
    for (const [method, path, body] of [
      ['GET', `/v1/backups/filesystem/${id}`, undefined],
      ['DELETE', `/v1/backups/filesystem/${id}`, undefined],
      ['POST', `/v1/backups/filesystem/${id}/restore`, {}],
      ['GET', `/v1/backups/filesystem/${id}/restore`, undefined],
      ['DELETE', `/v1/backups/filesystem/${id}/restore`, undefined],
    ] as const) {
      const reply = await node.request(method, path, body);
      t.is(reply.status, 422, `${method} ${path.slice(0, 60)}`);
      t.is(
        reply.body.error[0].message,
        id === long
          ? 'invalid backup id: it is 300 characters long, more than the limit of 128'
          : "invalid backup id: 'Bad.Id' allowed characters are lowercase, 0-9, _, -",
      );
    }
  }
  await seed(node, 'Article', 3);
  const huge = await node.request('POST', '/v1/backups/filesystem', { id: 'x'.repeat(3_000_000) });
  t.is(huge.status, 422);
  t.is(huge.body.error[0].message, 'invalid backup id: it is 3000000 characters long, more than the limit of 128');
  const longest = 'a'.repeat(128);
  t.is((await node.request('POST', '/v1/backups/filesystem', { id: longest })).status, 200, '128 characters are fine');
  t.is((await waitFor(node, `/v1/backups/filesystem/${longest}`)).body.status, 'SUCCESS');
});

test('a damaged descriptor is listed FAILED with the reason, and the other backups are listed as usual', async (t) => {
  const node = await startBackupNode(t);
  await seed(node, 'Article', 10);
  await node.request('POST', '/v1/backups/filesystem', { id: 'sound' });
  t.is((await waitFor(node, '/v1/backups/filesystem/sound')).body.status, 'SUCCESS');
  const damaged = {
    'no-nodes': { id: 'no-nodes', status: 'SUCCESS', startedAt: '2026-01-01T00:00:00.000Z' },
    'null-fields': { id: 'null-fields', nodes: null, classes: null, startedAt: null },
    'not-json': '{"id": "not-json", ',
  };
  for (const [id, content] of Object.entries(damaged)) {
    await rm(join(node.backups, id), { recursive: true, force: true });
    await cp(join(node.backups, 'sound'), join(node.backups, id), { recursive: true });
    await writeFile(
      join(node.backups, id, 'backup_config.json'),
      typeof content === 'string' ? content : JSON.stringify(content),
    );
  }
  const list = await node.request('GET', '/v1/backups/filesystem?order=asc');
  t.is(list.status, 200);
  t.like(Object.fromEntries(list.body.map((item: { id: string }) => [item.id, item])), {
    sound: { status: 'SUCCESS', classes: ['Article'] },
    'no-nodes': { status: 'FAILED', classes: [] },
    'null-fields': { status: 'FAILED', classes: [] },
    'not-json': { status: 'FAILED', classes: [] },
  });
  const byId = new Map(list.body.map((item: { id: string; error?: string }) => [item.id, item.error]));
  t.regex(
    String(byId.get('no-nodes')),
    /^corrupted backup file: no-nodes\/backup_config\.json: nodes: must be an object$/,
  );
  t.regex(
    String(byId.get('null-fields')),
    /^corrupted backup file: null-fields\/backup_config\.json: nodes: must be an object$/,
  );
  t.regex(String(byId.get('not-json')), /^corrupted backup file: not-json\/backup_config\.json: /);
  t.is(byId.get('sound'), undefined);

  const status = await node.request('GET', '/v1/backups/filesystem/null-fields');
  t.is(status.status, 200);
  t.like(status.body, { status: 'FAILED', error: byId.get('null-fields') });
  const restore = await node.request('POST', '/v1/backups/filesystem/null-fields/restore', {});
  t.is(restore.status, 422);
  t.is(restore.body.error[0].message, byId.get('null-fields'));
  const over = await node.request('POST', '/v1/backups/filesystem', { id: 'null-fields' });
  t.is(over.status, 422, 'a damaged backup is never overwritten');
  t.regex(over.body.error[0].message, /^backup "null-fields" already exists at /);
});

test('a provider that cannot remove what interrupted writes left does not keep a crashed backup from FAILED', async (t) => {
  const source = await startBackupNode(t);
  await seed(source, 'Article', 50);
  const hold = holdChunks(source, 'write');
  await source.request('POST', '/v1/backups/filesystem', { id: 'crashed' });
  await hold.reached;
  // The data path as a crash at this moment leaves it: the journal names the running backup.
  const crashed = await mkdtemp(join(tmpdir(), 'strata-crashed-'));
  t.teardown(() => rm(crashed, { recursive: true, force: true }));
  await cp(source.dataPath, crashed, { recursive: true });
  await writeFile(join(source.backups, 'crashed', '.strata-partial-0123456789abcdef'), 'cut short');

  const container = globalContainer.createChildContainer();
  const refusing = {
    promises: {
      ...fs.promises,
      unlink: async (path: string) => {
        if (path.includes('.strata-partial-')) throw Object.assign(new Error(`EACCES: ${path}`), { code: 'EACCES' });
        return fs.promises.unlink(path);
      },
    },
  };
  container.register('strata:backup-filesystem:fs', { useValue: refusing });
  const logs: Array<Record<string, unknown>> = [];
  const restarted = await StrataNode.start({
    env: {
      PERSISTENCE_DATA_PATH: crashed,
      ENABLE_MODULES: filesystemModule,
      BACKUP_FILESYSTEM_PATH: source.backups,
    },
    port: 0,
    container,
    logger: createLogger(
      'info',
      new Writable({
        write(chunk, _, done) {
          for (const line of String(chunk).split('\n').filter(Boolean)) logs.push(JSON.parse(line));
          done();
        },
      }),
    ),
  });
  t.teardown(() => restarted.stop());
  const status = await request(restarted.url, 'GET', '/v1/backups/filesystem/crashed');
  t.like(status.body, { status: 'FAILED', error: 'node restarted during backup' });
  t.truthy(
    logs.find((line) => String(line.msg).startsWith('could not remove what interrupted writes of crashed left')),
    'the failure is logged',
  );
  hold.unhold();
});
