import { truncate } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join } from 'node:path';
import test from 'ava';
import { holdChunks, readAll, seed, startBackupNode } from '../helpers/backups.js';
import { runStrata } from '../helpers/run-cli.js';

test('create, status, list and restore with --wait: progress, then SUCCESS and exit 0', async (t) => {
  const node = await startBackupNode(t);
  const objects = await seed(node, 'Article', 1000, 2);
  const strata = (...args: string[]) => runStrata(['backup', ...args, '--url', node.url]);

  const created = await strata('create', 'filesystem', 'cli-1', '--wait', '--compression', 'BestSpeed', '--cpu', '20');
  t.is(created.code, 0, created.stderr);
  const lines = created.stdout.trim().split('\n');
  t.is(lines[0], `backup cli-1 STARTED to ${join(node.backups, 'cli-1')} (classes: Article)`);
  t.regex(
    created.stdout,
    /(STARTED|TRANSFERRING|TRANSFERRED) +\[[█░]{24}\] +\d+% {2}[\d.]+ (B|KiB|MiB) of [\d.]+ (B|KiB|MiB) {2}[\d.]+ (B|KiB|MiB)\/s {2}ETA /,
  );
  t.regex(lines.at(-1) ?? '', new RegExp(`^backup cli-1 SUCCESS in \\d+\\.\\d s: ${join(node.backups, 'cli-1')}$`));

  t.deepEqual(await strata('status', 'filesystem', 'cli-1'), { code: 0, stdout: 'cli-1 SUCCESS\n', stderr: '' });
  const json = await strata('status', 'filesystem', 'cli-1', '--json');
  t.like(JSON.parse(json.stdout), { id: 'cli-1', backend: 'filesystem', status: 'SUCCESS' });
  t.regex((await strata('list', 'filesystem')).stdout, /^\d{4}-\d\d-\d\dT[\d:.]+Z {2}SUCCESS +cli-1 {2}\(Article\)\n$/);

  await node.request('DELETE', '/v1/schema/Article');
  const restored = await strata('restore', 'filesystem', 'cli-1', '--wait');
  t.is(restored.code, 0, restored.stderr);
  t.regex(restored.stdout, /restore of cli-1 SUCCESS in /);
  t.deepEqual(await readAll(node, 'Article'), objects);
  t.is((await strata('status', 'filesystem', 'cli-1', '--restore')).stdout, 'cli-1 SUCCESS\n');
});

test('--wait exits 1 with the reason when the restore FAILS', async (t) => {
  const node = await startBackupNode(t);
  await seed(node, 'Article', 200);
  t.is((await runStrata(['backup', 'create', 'filesystem', 'bad', '--wait', '--url', node.url])).code, 0);
  await truncate(join(node.backups, 'bad', 'node1', 'Article', 'chunk-1'), 100);
  await node.request('DELETE', '/v1/schema/Article');
  const restored = await runStrata(['backup', 'restore', 'filesystem', 'bad', '--wait', '--url', node.url]);
  t.is(restored.code, 1);
  t.is(
    restored.stderr,
    'strata: restore of bad ended FAILED: corrupted backup file: bad/node1/Article/chunk-1: unexpected end of file\n',
  );
  const status = await runStrata(['backup', 'status', 'filesystem', 'bad', '--restore', '--url', node.url]);
  t.is(status.code, 1, 'status of a FAILED operation exits 1 too');
});

test('cancel stops a running backup; the waiting create exits 1 with CANCELED', async (t) => {
  const node = await startBackupNode(t);
  await seed(node, 'Article', 200);
  const hold = holdChunks(node, 'write');
  const waiting = runStrata(['backup', 'create', 'filesystem', 'held', '--wait', '--url', node.url]);
  await hold.reached;
  const canceling = runStrata(['backup', 'cancel', 'filesystem', 'held', '--url', node.url]);
  t.deepEqual(await canceling, { code: 0, stdout: 'backup held canceled\n', stderr: '' });
  const created = await waiting;
  t.is(created.code, 1);
  t.is(created.stderr, 'strata: backup held ended CANCELED: backup canceled by user\n');
});

test("the node's refusals, an unreachable node and bad options are reported plainly", async (t) => {
  const node = await startBackupNode(t);
  await seed(node, 'Article', 1);
  const refused = await runStrata(['backup', 'create', 'filesystem', 'Bad.Id', '--url', node.url]);
  t.deepEqual(
    [refused.code, refused.stderr],
    [
      1,
      `strata: ${node.url}: POST /v1/backups/filesystem answered 422: invalid backup id: 'Bad.Id' allowed characters are lowercase, 0-9, _, -\n`,
    ],
  );

  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const closedUrl = `http://127.0.0.1:${(closed.address() as { port: number }).port}`;
  await new Promise((resolve) => closed.close(resolve));
  const unreachable = await runStrata(['backup', 'list', 'filesystem'], { env: { STRATA_URL: closedUrl } });
  t.is(unreachable.code, 1);
  t.is(
    unreachable.stderr,
    `strata: ${closedUrl}: cannot reach the node (ECONNREFUSED); is \`strata serve\` running there? Set STRATA_URL or --url\n`,
  );

  const notStrata = createServer((_, res) => res.writeHead(200).end('<html>hello</html>'));
  await new Promise<void>((resolve) => notStrata.listen(0, '127.0.0.1', resolve));
  t.teardown(() => notStrata.close());
  const { port } = notStrata.address() as { port: number };
  const html = await runStrata(['backup', 'list', 'filesystem', '--url', `http://127.0.0.1:${port}`]);
  t.is(
    html.stderr,
    `strata: http://127.0.0.1:${port}: GET /v1/backups/filesystem?order=desc answered 200 with no JSON: <html>hello</html>; is this a Strata node?\n`,
  );

  const cpu = await runStrata(['backup', 'create', 'filesystem', 'x', '--cpu', '120', '--url', node.url]);
  t.is(cpu.code, 2);
  t.true(cpu.stderr.startsWith('strata: --cpu must be a whole number from 1 to 80, got "120"'), cpu.stderr);
  const missing = await runStrata(['backup', 'create', 'filesystem', '--url', node.url]);
  t.is(missing.code, 2);
  t.true(missing.stderr.startsWith('strata: strata backup create: missing <backend> <id>'), missing.stderr);
});

test('--api-key (or STRATA_API_KEY) authenticates against a node with API keys on', async (t) => {
  const node = await startBackupNode(t, {
    AUTHENTICATION_APIKEY_ENABLED: 'true',
    AUTHENTICATION_APIKEY_ALLOWED_KEYS: 'secret-key',
  });
  const denied = await runStrata(['backup', 'list', 'filesystem', '--url', node.url]);
  t.is(denied.code, 1);
  t.regex(denied.stderr, /answered 401/);
  t.deepEqual(await runStrata(['backup', 'list', 'filesystem', '--url', node.url, '--api-key', 'secret-key']), {
    code: 0,
    stdout: 'no backups\n',
    stderr: '',
  });
  t.is(
    (await runStrata(['backup', 'list', 'filesystem', '--url', node.url], { env: { STRATA_API_KEY: 'secret-key' } }))
      .code,
    0,
  );
});
