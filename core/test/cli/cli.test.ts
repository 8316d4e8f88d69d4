import { readFile } from 'node:fs/promises';
import test from 'ava';
import { coreDir, makeApp, modulePackage } from '../helpers/app.js';
import { runStrata } from '../helpers/run-cli.js';

test('strata --help lists every command, and each command has its own --help', async (t) => {
  const { code, stdout } = await runStrata(['--help']);
  t.is(code, 0);
  t.true(stdout.startsWith('Usage: strata <command> [options]'));
  const commands = [...stdout.matchAll(/^ {2}([a-z][a-z-]*) {2,}/gm)].map((match) => match[1] as string);
  t.true(commands.includes('modules'), stdout);
  for (const command of commands) {
    for (const args of [
      [command, '--help'],
      [command, '-h'],
      ['help', command],
    ]) {
      const result = await runStrata(args);
      t.is(result.code, 0, `strata ${args.join(' ')} failed: ${result.stderr}`);
      t.true(
        result.stdout.startsWith(`Usage: strata ${command}`),
        `strata ${args.join(' ')} printed: ${result.stdout}`,
      );
    }
  }
});

test('strata with no command prints the usage', async (t) => {
  const { code, stdout } = await runStrata([]);
  t.is(code, 0);
  t.true(stdout.startsWith('Usage: strata'));
});

test('strata --version prints the version of @strata/core', async (t) => {
  const { version } = JSON.parse(await readFile(`${coreDir}/package.json`, 'utf8')) as { version: string };
  t.is((await runStrata(['--version'])).stdout, `${version}\n`);
});

const usageErrors: ReadonlyArray<[readonly string[], string]> = [
  [['frobnicate'], 'strata: unknown command "frobnicate"\nRun `strata --help` for usage.\n'],
  [['modules', '--nope'], "strata: Unknown option '--nope'"],
  [['modules', 'extra'], 'strata: unexpected argument "extra"\nRun `strata modules --help` for usage.\n'],
];

for (const [args, message] of usageErrors) {
  test(`strata ${args.join(' ')} is a usage error (exit 2)`, async (t) => {
    const { code, stderr } = await runStrata(args);
    t.is(code, 2);
    t.true(stderr.startsWith(message), stderr);
  });
}

test('strata modules with no ENABLE_MODULES says how to enable one', async (t) => {
  const { code, stdout } = await runStrata(['modules']);
  t.is(code, 0);
  t.true(stdout.startsWith('No modules enabled: ENABLE_MODULES is empty.'), stdout);
});

const config = `{
  bucket: { name: 'DEMO_BUCKET', required: true, description: 'The bucket.' },
  region: { name: 'DEMO_REGION', fallbacks: ['DEMO_DEFAULT_REGION'], description: 'The region.' },
  ssl: { name: 'DEMO_SSL', default: true, parse: parsers.boolean, description: 'TLS.' },
  key: { name: 'DEMO_KEY', secret: true, description: 'The secret key.' } }`;

test('strata modules lists name, version, API version, alt names and configuration, secrets as ***', async (t) => {
  const app = await makeApp([modulePackage({ name: 'backup-demo', altNames: ['demo'], config, external: false })]);
  t.teardown(app.remove);
  const env = {
    ENABLE_MODULES: 'backup-demo',
    DEMO_BUCKET: 'my-bucket',
    DEMO_DEFAULT_REGION: 'eu-west-1',
    DEMO_KEY: 'hunter2',
  };
  const { code, stdout } = await runStrata(['modules'], { cwd: app.dir, env });
  t.is(code, 0);
  t.is(
    stdout.replaceAll(app.dir, '<app>'),
    [
      '1 module enabled (ENABLE_MODULES=backup-demo)',
      '',
      'backup-demo (alt names: demo)',
      '  package     @strata/backup-demo 1.2.3 (<app>/node_modules/@strata/backup-demo)',
      '  module API  1',
      '  storage     local: not usable by a multi-node cluster',
      '  configuration:',
      '    DEMO_BUCKET  my-bucket',
      '    DEMO_REGION  eu-west-1  (from DEMO_DEFAULT_REGION)',
      '    DEMO_SSL     true  (default)',
      '    DEMO_KEY     ***',
      '',
    ].join('\n'),
  );

  const json = await runStrata(['modules', '--json'], { cwd: app.dir, env });
  t.is(json.code, 0);
  t.false(json.stdout.includes('hunter2'));
  const [module] = JSON.parse(json.stdout) as Array<Record<string, unknown>>;
  t.like(module, {
    name: 'backup-demo',
    altNames: ['demo'],
    apiVersion: 1,
    version: '1.2.3',
    capabilities: { external: false },
  });
  t.deepEqual((module?.config as unknown[] | undefined)?.[3], {
    variable: 'DEMO_KEY',
    value: '***',
    source: 'environment',
    from: 'DEMO_KEY',
    secret: true,
    required: false,
  });
});

test('strata modules exits 1 with every problem of every module, and never prints a secret', async (t) => {
  const app = await makeApp([modulePackage({ name: 'backup-demo', config })]);
  t.teardown(app.remove);
  const env = { ENABLE_MODULES: 'backup-demo,backup-missing', DEMO_SSL: 'hunter2', DEMO_KEY: 'hunter2' };
  const { code, stdout, stderr } = await runStrata(['modules'], { cwd: app.dir, env });
  t.is(code, 1);
  t.is(stdout, '');
  t.true(stderr.startsWith('strata: ENABLE_MODULES=backup-demo,backup-missing: 3 problems:'), stderr);
  t.true(stderr.includes('backup-demo: DEMO_BUCKET is required but not set. The bucket.'), stderr);
  t.true(stderr.includes('backup-demo: DEMO_SSL="hunter2" is invalid: expected true or false'), stderr);
  t.true(stderr.includes('ENABLE_MODULES entry "backup-missing" cannot be found'), stderr);
});

test('strata conformance without @strata/conformance installed says how to install it', async (t) => {
  const app = await makeApp([]);
  t.teardown(() => app.remove());
  const { code, stderr } = await runStrata(['conformance', 'backup-filesystem'], { cwd: app.dir });
  t.not(code, 0);
  t.true(
    stderr.includes(
      `strata conformance runs @strata/conformance, which is not installed in ${app.dir}: ` +
        'npm install --save-dev @strata/conformance, then run it again',
    ),
    stderr,
  );
});
