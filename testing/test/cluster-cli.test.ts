import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { waitForLine } from '../src/index.js';

const cli = fileURLToPath(new URL('../src/cluster-cli.js', import.meta.url));

test('pnpm cluster starts etcd and the nodes, prints where they are, and stops them on Ctrl-C', async (t) => {
  const child = spawn(process.execPath, [cli, '--nodes', '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => child.kill('SIGKILL'));
  let output = '';
  child.stdout.on('data', (data) => (output += data));
  await waitForLine(child, /Ctrl-C stops the nodes/);
  const urls = [...output.matchAll(/^ {2}(node\d) {2}(http:\/\/127\.0\.0\.1:\d+) {3}\(data: ([^)]+)\)$/gm)];
  t.deepEqual(
    urls.map((m) => m[1]),
    ['node1', 'node2'],
  );
  const reply = await fetch(`${urls[0]?.[2]}/v1/nodes`);
  const { nodes } = (await reply.json()) as { nodes: { name: string; status: string }[] };
  t.deepEqual(
    nodes.map((n) => `${n.name} ${n.status}`),
    ['node1 HEALTHY', 'node2 HEALTHY'],
  );
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  child.kill('SIGINT');
  t.is(await exited, 0);
  await t.throwsAsync(stat(urls[0]?.[3] as string), { code: 'ENOENT' }, 'its data is removed');
});

test('pnpm cluster refuses a node count it cannot start, saying how to call it', async (t) => {
  const child = spawn(process.execPath, [cli, '--nodes', 'many'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let error = '';
  child.stderr.on('data', (data) => (error += data));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  t.is(code, 2);
  t.regex(error, /usage: pnpm cluster \[--nodes N\]/);
});
