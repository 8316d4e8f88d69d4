import { readFile } from 'node:fs/promises';
import test from 'ava';
import { startBackupNode, waitFor } from '../helpers/backups.js';
import { runStrata } from '../helpers/run-cli.js';

// The README's "After set-up" commands, run as written against a fresh node, so a new user's first
// steps cannot drift from what the node answers.
const README = new URL('../../../../README.md', import.meta.url);

/** The words of a shell command line: bare words and single-quoted strings, up to a comment. */
function words(line: string): string[] {
  const found: string[] = [];
  const pattern = /'([^']*)'|(#.*$)|(\S+)/g;
  for (let match = pattern.exec(line); match !== null; match = pattern.exec(line)) {
    if (match[2] !== undefined) break;
    found.push(match[1] ?? (match[3] as string));
  }
  return found;
}

/** The lines of the README's sh block that starts the node with `pnpm strata serve`. */
async function tryItCommands(): Promise<string[][]> {
  const readme = await readFile(README, 'utf8');
  const blocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1] as string);
  const block = blocks.find((text) => text.includes('pnpm strata serve'));
  if (block === undefined) throw new Error('README.md has no sh block starting `pnpm strata serve`');
  return block
    .split('\n')
    .map(words)
    .filter((command) => command.length > 0);
}

test("the README's first commands run as written on a fresh node", async (t) => {
  const commands = await tryItCommands();
  const [serve, ...rest] = commands;
  t.deepEqual(serve?.slice(-3), ['pnpm', 'strata', 'serve'], 'the block starts the node');
  const env = Object.fromEntries((serve ?? []).slice(0, -3).map((word) => word.split('=') as [string, string]));
  t.is(env.ENABLE_MODULES, 'backup-filesystem');
  const node = await startBackupNode(t, { ENABLE_MODULES: env.ENABLE_MODULES as string });

  let ran = 0;
  for (const command of rest) {
    if (command[0] === 'curl') {
      const method = command.includes('-X') ? (command[command.indexOf('-X') + 1] as string) : 'GET';
      const body = command.includes('-d') ? command[command.indexOf('-d') + 1] : undefined;
      const url = command.find((word) => word.includes('localhost:8080')) as string;
      const path = url.replace(/^(http:\/\/)?localhost:8080/, '');
      const reply = await node.request(method, path, body);
      t.is(reply.status, 200, `${command.join(' ')} answered ${reply.status}: ${JSON.stringify(reply.body)}`);
      // A person reads the answer before typing on: a backup started is finished by the next line.
      if (method === 'POST' && path.startsWith('/v1/backups/')) {
        const id = JSON.parse(body as string).id as string;
        t.is((await waitFor(node, `${path}/${id}`)).body.status, 'SUCCESS');
      }
      if (path === '/v1/backups/filesystem/first') t.is(reply.body.status, 'SUCCESS');
    } else {
      t.deepEqual(command.slice(0, 2), ['pnpm', 'strata'], `a command the test knows: ${command.join(' ')}`);
      const result = await runStrata(command.slice(2), { env: { STRATA_URL: node.url } });
      t.is(result.code, 0, `${command.join(' ')} exited ${result.code}: ${result.stderr}`);
    }
    ran++;
  }
  t.is(ran, rest.length);
  t.true(ran >= 6, 'the block shows a schema, an object, a backup and the CLI');
});
