import 'reflect-metadata';
import { inspect } from 'node:util';
import test from 'ava';
import { container } from 'tsyringe';
import type { StrataError } from '../../src/errors.js';
import { loadModules } from '../../src/modules/index.js';
import { type FixturePackage, makeApp, modulePackage, writePackage } from '../helpers/app.js';

async function problemsOf(packages: readonly FixturePackage[], enableModules: string, env = {}) {
  const app = await makeApp(packages);
  try {
    await loadModules({ enableModules, env, appDir: app.dir });
  } catch (error) {
    return { error: error as StrataError & { problems: StrataError[] }, app };
  } finally {
    await app.remove();
  }
  throw new Error(`loading ENABLE_MODULES=${enableModules} succeeded, but it should have failed`);
}

test('a bare name resolves to @strata/<name> and the backend answers to its name and alt names', async (t) => {
  const app = await makeApp([modulePackage({ name: 'backup-good', altNames: ['good'] })]);
  t.teardown(app.remove);
  const registry = await loadModules({ enableModules: 'backup-good', env: {}, appDir: app.dir });
  t.deepEqual(
    registry.modules.map((m) => [m.name, m.packageName, m.version, m.apiVersion, m.altNames]),
    [['backup-good', '@strata/backup-good', '1.2.3', 1, ['good']]],
  );
  t.is(registry.backend('backup-good').homePath('id'), 'backup-good:id');
  t.is(registry.backend('good'), registry.backend('backup-good'));
  t.deepEqual(registry.modules[0]?.meta, { configured: 0 });
});

test('a bare name falls back to the third-party convention strata-<name>', async (t) => {
  const app = await makeApp([modulePackage({ name: 'backup-azure', packageName: 'strata-backup-azure' })]);
  t.teardown(app.remove);
  const registry = await loadModules({ enableModules: 'backup-azure', env: {}, appDir: app.dir });
  t.is(registry.modules[0]?.packageName, 'strata-backup-azure');
});

test('an entry may be a full package name, scoped or not', async (t) => {
  const app = await makeApp([
    modulePackage({ name: 'backup-azure', packageName: '@acme/strata-backup-azure' }),
    modulePackage({ name: 'backup-local', packageName: 'strata-backup-local' }),
  ]);
  t.teardown(app.remove);
  const registry = await loadModules({
    enableModules: '@acme/strata-backup-azure,strata-backup-local',
    env: {},
    appDir: app.dir,
  });
  t.deepEqual(
    registry.modules.map((m) => m.name),
    ['backup-azure', 'backup-local'],
  );
});

test('an entry may be a path to a module directory, relative to the application', async (t) => {
  const app = await makeApp([]);
  t.teardown(app.remove);
  await writePackage(`${app.dir}/local/backup-dir`, {
    name: 'my-module',
    files: modulePackage({ name: 'backup-dir' }).files,
  });
  const registry = await loadModules({ enableModules: './local/backup-dir', env: {}, appDir: app.dir });
  t.is(registry.modules[0]?.name, 'backup-dir');
  t.is(registry.modules[0]?.packageName, 'my-module');
});

test('ENABLE_MODULES entries are trimmed, empty ones ignored, and a package named twice is loaded once', async (t) => {
  const app = await makeApp([
    modulePackage({ name: 'backup-good', config: "{ v: { name: 'GOOD_V', description: 'v' } }" }),
  ]);
  t.teardown(app.remove);
  const registry = await loadModules({
    enableModules: ' backup-good ,, @strata/backup-good,backup-good ,',
    env: {},
    appDir: app.dir,
  });
  t.is(registry.modules.length, 1);
});

test('unset or blank ENABLE_MODULES loads no modules', async (t) => {
  for (const enableModules of [undefined, '', ' , ']) {
    const registry = await loadModules({ enableModules, env: {}, appDir: process.cwd() });
    t.is(registry.modules.length, 0);
  }
});

test('ENABLE_MODULES is read from env when not given', async (t) => {
  const app = await makeApp([modulePackage({ name: 'backup-good' })]);
  t.teardown(app.remove);
  const registry = await loadModules({ env: { ENABLE_MODULES: 'backup-good' }, appDir: app.dir });
  t.is(registry.modules[0]?.name, 'backup-good');
});

test('several backup modules can be active at once', async (t) => {
  const app = await makeApp([modulePackage({ name: 'backup-one' }), modulePackage({ name: 'backup-two' })]);
  t.teardown(app.remove);
  const registry = await loadModules({ enableModules: 'backup-one,backup-two', env: {}, appDir: app.dir });
  t.is(registry.backend('backup-one').homePath('x'), 'backup-one:x');
  t.is(registry.backend('backup-two').homePath('x'), 'backup-two:x');
});

test("asking for a backend no module provides gives Weaviate's message and status 422", async (t) => {
  const registry = await loadModules({ enableModules: '', env: {}, appDir: process.cwd() });
  const error = t.throws(() => registry.backend('s3')) as StrataError;
  t.is(error.message, 'no backup backend "s3": backup: s3 not found, did you enable the right module?');
  t.is(error.code, 'STRATA_BACKUP_BACKEND_NOT_ENABLED');
  t.is(error.statusCode, 422);
});

test('each module registers into its own child container of the one core owns', async (t) => {
  const parent = container.createChildContainer();
  parent.register('app:shared', { useValue: 'from the application' });
  const register = `
    container.register('probe', { useValue: container.resolve('app:shared') + ' via ' + config.v });
    container.register(BACKUP_BACKEND, { useValue: { homePath: () => container.resolve('probe') } });`;
  const app = await makeApp([
    modulePackage({ name: 'backup-one', config: "{ v: { name: 'ONE_V', description: 'v' } }", register }),
    modulePackage({ name: 'backup-two', config: "{ v: { name: 'TWO_V', description: 'v' } }", register }),
  ]);
  t.teardown(app.remove);
  const registry = await loadModules({
    enableModules: 'backup-one,backup-two',
    env: { ONE_V: 'one', TWO_V: 'two' },
    appDir: app.dir,
    container: parent,
  });
  t.is(registry.backend('backup-one').homePath('x'), 'from the application via one');
  t.is(registry.backend('backup-two').homePath('x'), 'from the application via two');
  t.false(parent.isRegistered('probe'), 'a module registration leaked into the parent container');
});

test('modules log through the given logger, tagged with their name, with secrets redacted', async (t) => {
  const lines: object[] = [];
  const logger = { debug() {}, info: (f: object) => lines.push(f), warn() {}, error() {} };
  const config = "{ key: { name: 'LOG_KEY', secret: true, description: 'k' } }";
  const register = `logger.info({ hello: 'world' }, 'hi'); container.register(BACKUP_BACKEND, { useValue: {} });`;
  const app = await makeApp([modulePackage({ name: 'backup-logs', config, register })]);
  t.teardown(app.remove);
  await loadModules({ enableModules: 'backup-logs', env: { LOG_KEY: 'hunter2' }, appDir: app.dir, logger });
  t.like(lines[0], { module: 'backup-logs', hello: 'world' });
  t.false(JSON.stringify(lines).includes('hunter2'), 'a secret reached the log');
  t.true(JSON.stringify(lines).includes('***'));
});

/** Each row: packages installed, ENABLE_MODULES, env, the expected problem codes and message fragments. */
const failures: ReadonlyArray<{
  readonly title: string;
  readonly packages: readonly FixturePackage[];
  readonly enable: string;
  readonly env?: Record<string, string>;
  readonly codes: readonly string[];
  readonly messages: readonly string[];
}> = [
  {
    title: 'an unknown module names the packages tried and how to install it',
    packages: [],
    enable: 'backup-nowhere',
    codes: ['STRATA_MODULE_NOT_FOUND'],
    messages: [
      'ENABLE_MODULES entry "backup-nowhere" cannot be found from',
      'tried "@strata/backup-nowhere", "strata-backup-nowhere"',
      'npm install @strata/backup-nowhere for a first-party module, strata-backup-nowhere for a third-party one',
    ],
  },
  {
    title: 'an alt name in ENABLE_MODULES suggests the module name',
    packages: [modulePackage({ name: 'backup-good', altNames: ['good'] })],
    enable: 'good',
    codes: ['STRATA_MODULE_NOT_FOUND'],
    messages: ['Did you mean "backup-good"? ENABLE_MODULES takes module names, not alt names.'],
  },
  {
    title: "a Weaviate module name explains that Strata's modules are backup providers",
    packages: [],
    enable: 'text2vec-transformers',
    codes: ['STRATA_MODULE_NOT_FOUND'],
    messages: ["Weaviate's other modules (text2vec-*, generative-*, ...) do not exist in Strata"],
  },
  {
    title: 'a path entry without a package.json is not found',
    packages: [],
    enable: './nowhere',
    codes: ['STRATA_MODULE_NOT_FOUND'],
    messages: ['A path entry must name a module package directory, one with a package.json.'],
  },
  {
    title: 'a package without the brand is refused',
    packages: [{ name: '@strata/backup-plain', files: { 'index.js': 'export default { name: "backup-plain" };' } }],
    enable: 'backup-plain',
    codes: ['STRATA_MODULE_NOT_BRANDED'],
    messages: ['loaded @strata/backup-plain@1.2.3 at', 'which is not a Strata backup module', 'defineBackupModule()'],
  },
  {
    title: 'a branded but malformed definition is refused with the problem',
    packages: [
      {
        name: '@strata/backup-odd',
        files: {
          'index.js': `export default { [Symbol.for('strata.backup-module')]: true, name: 'backup-odd', apiVersion: 1,
            capabilities: { external: true }, config: {} };`,
        },
      },
    ],
    enable: 'backup-odd',
    codes: ['STRATA_MODULE_INVALID_DEFINITION'],
    messages: ['whose module definition is invalid: "register" must be a function'],
  },
  {
    title: 'a module whose name differs from the entry is refused',
    packages: [modulePackage({ name: 'backup-gcs', packageName: '@strata/backup-s3' })],
    enable: 'backup-s3',
    codes: ['STRATA_MODULE_NAME_MISMATCH'],
    messages: ['loaded @strata/backup-s3@1.2.3', 'that module calls itself "backup-gcs", not "backup-s3"'],
  },
  {
    title: 'an unsupported module API version is refused, naming both versions',
    packages: [modulePackage({ name: 'backup-future', apiVersion: 99 })],
    enable: 'backup-future',
    codes: ['STRATA_MODULE_API_UNSUPPORTED'],
    messages: ['implements module API version 99', 'supports module API version 1'],
  },
  {
    title: 'a module that fails to import is reported with the reason',
    packages: [{ name: '@strata/backup-broken', files: { 'index.js': 'export default {;' } }],
    enable: 'backup-broken',
    codes: ['STRATA_MODULE_IMPORT_FAILED'],
    messages: ['ENABLE_MODULES entry "backup-broken": importing', 'failed: Unexpected token'],
  },
  {
    title: 'a package whose exports has no importable entry is reported',
    packages: [
      {
        name: '@strata/backup-cjs',
        files: { 'index.cjs': 'module.exports = {};' },
        packageJson: { exports: { '.': { require: './index.cjs' } } },
      },
    ],
    enable: 'backup-cjs',
    codes: ['STRATA_MODULE_IMPORT_FAILED'],
    messages: ['its package.json "exports" has no "." entry for import'],
  },
  {
    title: 'a module with its own copy of tsyringe is refused with how to fix the install',
    packages: [
      {
        ...modulePackage({ name: 'backup-dup' }),
        files: {
          ...modulePackage({ name: 'backup-dup' }).files,
          'node_modules/tsyringe/package.json': '{"name":"tsyringe","version":"4.10.0"}',
          'node_modules/tsyringe/index.js': '',
        },
      },
    ],
    enable: 'backup-dup',
    codes: ['STRATA_MODULE_DUPLICATE_DEPENDENCY'],
    messages: [
      'would load its own copy of tsyringe',
      'Two copies mean two DI containers',
      'Declare tsyringe as a peerDependency of @strata/backup-dup (not a dependency), then reinstall',
    ],
  },
  {
    title: 'missing and invalid variables of two modules are reported together',
    packages: [
      modulePackage({
        name: 'backup-one',
        config: `{ bucket: { name: 'ONE_BUCKET', required: true, description: 'The bucket for backups.' },
                   port: { name: 'ONE_PORT', parse: parsers.integer({ min: 1, max: 65535 }), description: 'p' } }`,
      }),
      modulePackage({
        name: 'backup-two',
        config: `{ region: { name: 'TWO_REGION', fallbacks: ['TWO_DEFAULT_REGION'], required: true, description: 'The region.' },
                   ssl: { name: 'TWO_SSL', parse: parsers.boolean, description: 's' } }`,
      }),
    ],
    enable: 'backup-one,backup-two',
    env: { ONE_PORT: '99999', TWO_SSL: 'maybe' },
    codes: [
      'STRATA_MODULE_CONFIG_MISSING',
      'STRATA_MODULE_CONFIG_INVALID',
      'STRATA_MODULE_CONFIG_MISSING',
      'STRATA_MODULE_CONFIG_INVALID',
    ],
    messages: [
      'ENABLE_MODULES=backup-one,backup-two: 4 problems:',
      'backup-one: ONE_BUCKET is required but not set. The bucket for backups.',
      'backup-one: ONE_PORT="99999" is invalid: expected a number from 1 to 65535',
      'backup-two: TWO_REGION is required but not set (nor TWO_DEFAULT_REGION). The region.',
      'backup-two: TWO_SSL="maybe" is invalid: expected true or false',
    ],
  },
  {
    title: 'two modules answering to the same name are refused',
    packages: [
      modulePackage({ name: 'backup-one', altNames: ['store'] }),
      modulePackage({ name: 'backup-two', altNames: ['store'] }),
    ],
    enable: 'backup-one,backup-two',
    codes: ['STRATA_MODULE_NAME_CONFLICT'],
    messages: [
      'modules "backup-one" (@strata/backup-one) and "backup-two" (@strata/backup-two) both answer to the name "store"',
    ],
  },
  {
    title: 'a register() that throws is reported as a failure to start',
    packages: [modulePackage({ name: 'backup-fails', register: "throw new Error('cannot reach the bucket');" })],
    enable: 'backup-fails',
    codes: ['STRATA_MODULE_REGISTER_FAILED'],
    messages: ['module "backup-fails" failed to start: cannot reach the bucket'],
  },
  {
    title: 'a register() that registers no backend is refused',
    packages: [modulePackage({ name: 'backup-empty', register: '' })],
    enable: 'backup-empty',
    codes: ['STRATA_MODULE_NO_BACKEND'],
    messages: ['module "backup-empty" did not register a backup backend', 'container.register(BACKUP_BACKEND'],
  },
];

for (const row of failures) {
  test(`refused: ${row.title}`, async (t) => {
    const { error, app } = await problemsOf(row.packages, row.enable, row.env);
    t.is(error.code, 'STRATA_MODULES_INVALID');
    t.deepEqual(
      error.problems.map((problem) => problem.code),
      row.codes,
    );
    const message = error.message.replaceAll(app.dir, '<app>');
    for (const fragment of row.messages) t.true(message.includes(fragment), `missing "${fragment}" in:\n${message}`);
  });
}

test('a secret is never printed: not in errors, listings, JSON or inspection of the config', async (t) => {
  const config = `{
    key: { name: 'SEC_KEY', secret: true, required: true, description: 'k' },
    token: { name: 'SEC_TOKEN', secret: true, parse: (raw) => { throw new Error('token ' + raw + ' is malformed'); }, description: 't' },
    plain: { name: 'SEC_PLAIN', description: 'p' } }`;
  const register = 'container.register(BACKUP_BACKEND, { useValue: { seen: config } });';
  const app = await makeApp([modulePackage({ name: 'backup-secret', config, register })]);
  t.teardown(app.remove);

  const env = { SEC_KEY: 'hunter2-key', SEC_TOKEN: 'hunter2-token', SEC_PLAIN: 'visible' };
  const error = await t.throwsAsync(loadModules({ enableModules: 'backup-secret', env, appDir: app.dir }));
  t.true(error?.message.includes('backup-secret: SEC_TOKEN="***" is invalid: token *** is malformed'), error?.message);
  t.false(error?.message.includes('hunter2'));

  const registry = await loadModules({
    enableModules: 'backup-secret',
    env: { SEC_KEY: 'hunter2-key', SEC_PLAIN: 'visible' },
    appDir: app.dir,
  });
  const [module] = registry.modules;
  t.deepEqual(
    module?.config.map((entry) => [entry.variable, entry.shown, entry.source]),
    [
      ['SEC_KEY', '***', 'environment'],
      ['SEC_TOKEN', '', 'unset'],
      ['SEC_PLAIN', 'visible', 'environment'],
    ],
  );
  const seen = (registry.backend('backup-secret') as unknown as { seen: Record<string, unknown> }).seen;
  t.is(seen.key, 'hunter2-key', 'the module itself receives the real value');
  for (const shown of [JSON.stringify(seen), inspect(seen), JSON.stringify(module)]) {
    t.false(shown.includes('hunter2'), `a secret leaked: ${shown}`);
  }
  t.true(JSON.stringify(seen).includes('"key":"***"'));
});
