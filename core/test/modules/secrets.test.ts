import 'reflect-metadata';
import { Writable } from 'node:stream';
import { inspect } from 'node:util';
import test from 'ava';
import { pino } from 'pino';
import type { StrataError } from '../../src/errors.js';
import { loadModules } from '../../src/modules/index.js';
import { readModuleConfig } from '../../src/modules/read-config.js';
import { createLogger } from '../../src/node/index.js';
import type { ConfigSpec } from '../../src/provider/config.js';
import { makeApp, modulePackage } from '../helpers/app.js';

// Distinctive values, so that finding one anywhere means a secret leaked.
const KEY = 'marker-key-5d1f07';
const TOKEN = 'marker-token-c93a44';
const MARKERS = [KEY, TOKEN];

const config = `{
  key: { name: 'SEC_KEY', fallbacks: ['SEC_KEY_OLD'], secret: true, description: 'k' },
  token: { name: 'SEC_TOKEN', secret: true, description: 't' },
  unset: { name: 'SEC_UNSET', secret: true, description: 'u' },
  plain: { name: 'SEC_PLAIN', description: 'p' } }`;
// The key through its fallback: redaction must know every name a secret is read under.
const env = { SEC_KEY_OLD: KEY, SEC_TOKEN: ` ${TOKEN} `, SEC_PLAIN: 'visible' };
const BACKEND = 'container.register(BACKUP_BACKEND, { useValue: { homePath: (id) => id } });';

/** A pino logger as the node makes it, at its most verbose, writing into `lines`. */
function capturingLogger() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return { logger: createLogger('trace', sink), lines, parsed: () => lines.map((line) => JSON.parse(line)) };
}

function assertNoMarker(t: { false(actual: boolean, message?: string): void }, text: string): void {
  for (const marker of MARKERS) t.false(text.includes(marker), `a secret leaked: ${text}`);
}

async function loadWith(register: string, options: { meta?: string } = {}) {
  const app = await makeApp([modulePackage({ name: 'backup-secret', config, register, ...options })]);
  const capture = capturingLogger();
  const registry = await loadModules({ enableModules: 'backup-secret', env, appDir: app.dir, logger: capture.logger });
  return { ...capture, registry, remove: app.remove };
}

async function failureOf(register: string): Promise<StrataError & { problems: StrataError[] }> {
  const app = await makeApp([modulePackage({ name: 'backup-secret', config, register })]);
  try {
    await loadModules({ enableModules: 'backup-secret', env, appDir: app.dir });
  } catch (error) {
    return error as StrataError & { problems: StrataError[] };
  } finally {
    await app.remove();
  }
  throw new Error('loading succeeded, but register() threw');
}

test('the "module loaded" line shows secrets as *** through pino, whose redaction once copied them out', async (t) => {
  const { lines, parsed, remove } = await loadWith(BACKEND);
  t.teardown(remove);
  const loaded = parsed().find((line) => line.msg === 'module loaded');
  t.deepEqual(loaded?.config, { key: '***', token: '***', plain: 'visible' }, 'an unset secret stays unset');
  t.is(loaded?.module, 'backup-secret');
  assertNoMarker(t, lines.join('\n'));
});

test('what a module logs under a secret key or variable name, or in a message, is redacted', async (t) => {
  const register = `
    logger.info({ config }, 'the whole config');
    logger.info({ key: config.key, SEC_TOKEN: config.token }, 'top level');
    logger.debug({ client: { credentials: { key: config.key } } }, 'two objects down');
    logger.warn({ env: { SEC_KEY_OLD: config.key } }, 'by the fallback name');
    logger.info({ list: [{ token: config.token }] }, 'in an array');
    logger.error({}, 'connecting with ' + config.key + ' and ' + config.token.trim());
    logger.info({ unset: config.unset, headers: { authorization: 'Bearer ' + config.key } }, 'core paths too');
    ${BACKEND}`;
  const { lines, parsed, remove } = await loadWith(register);
  t.teardown(remove);
  assertNoMarker(t, lines.join('\n'));
  const byMessage = new Map(parsed().map((line) => [line.msg, line]));
  t.deepEqual(byMessage.get('the whole config')?.config, { key: '***', token: '***', plain: 'visible' });
  t.like(byMessage.get('top level'), { key: '***', SEC_TOKEN: '***', module: 'backup-secret' });
  t.deepEqual(byMessage.get('two objects down')?.client, { credentials: { key: '***' } });
  t.deepEqual(byMessage.get('by the fallback name')?.env, { SEC_KEY_OLD: '***' });
  t.deepEqual(byMessage.get('in an array')?.list, [{ token: '***' }]);
  t.true(byMessage.has('connecting with *** and ***'), [...byMessage.keys()].join('; '));
  const core = byMessage.get('core paths too');
  t.false('unset' in core, 'an unset secret must not be logged as if it were set');
  t.deepEqual(core.headers, { authorization: '***' });
});

test('a logger other than pino gets module-tagged lines, secret-free messages and the redacted config', async (t) => {
  const app = await makeApp([
    modulePackage({ name: 'backup-secret', config, register: `logger.warn({}, 'using ' + config.key); ${BACKEND}` }),
  ]);
  t.teardown(app.remove);
  const lines: Array<{ fields: object; message?: string | undefined }> = [];
  const log = (fields: object, message?: string) => lines.push({ fields, message });
  await loadModules({
    enableModules: 'backup-secret',
    env,
    appDir: app.dir,
    logger: { debug: log, info: log, warn: log, error: log },
  });
  t.deepEqual(lines[0], { fields: { module: 'backup-secret' }, message: 'using ***' });
  t.like(lines[1]?.fields, { module: 'backup-secret', config: { key: '***', token: '***', plain: 'visible' } });
  assertNoMarker(t, inspect(lines, { depth: 8 }));
});

test('meta() sees each set secret as ***, so GET /v1/meta cannot show one', async (t) => {
  const meta = '(config) => ({ key: config.key, hasToken: config.token !== undefined, unset: config.unset ?? null })';
  const { registry, remove } = await loadWith(BACKEND, { meta });
  t.teardown(remove);
  t.deepEqual(registry.modules[0]?.meta, { key: '***', hasToken: true, unset: null });
});

test('register() still receives the real values, under MODULE_CONFIG too', async (t) => {
  const register = `container.register(BACKUP_BACKEND, { useValue: { homePath: () => [config.key, container.resolve('strata:ModuleConfig').token].join('|') } });`;
  const { registry, remove } = await loadWith(register);
  t.teardown(remove);
  t.is(registry.backend('backup-secret').homePath('x'), `${KEY}| ${TOKEN} `);
});

test('an error register() throws quoting a secret is reported redacted, without the original as cause', async (t) => {
  const error = await failureOf("throw new Error('the key ' + config.key + ' was refused');");
  t.is(error.problems[0]?.message, 'module "backup-secret" failed to start: the key *** was refused');
  t.is(error.problems[0]?.cause, undefined);
  assertNoMarker(t, inspect(error, { depth: 8 }));
});

test('an error whose message is clean but whose fields or cause hold a secret keeps its message, not its cause', async (t) => {
  const fields = await failureOf("throw Object.assign(new Error('refused'), { AWSAccessKeyId: config.key });");
  t.is(fields.problems[0]?.message, 'module "backup-secret" failed to start: refused');
  assertNoMarker(t, inspect(fields, { depth: 8 }));
  const cause = await failureOf("throw new Error('refused', { cause: new Error('token ' + config.token) });");
  t.is(cause.problems[0]?.message, 'module "backup-secret" failed to start: refused');
  assertNoMarker(t, inspect(cause, { depth: 8 }));
});

test('an error that quotes no secret stays attached as the cause', async (t) => {
  const error = await failureOf("throw new Error('cannot reach the bucket');");
  t.is((error.problems[0]?.cause as Error | undefined)?.message, 'cannot reach the bucket');
});

test('a backend factory that throws quoting a secret is reported redacted', async (t) => {
  const error = await failureOf(
    "container.register(BACKUP_BACKEND, { useFactory: () => { throw new Error('bad token ' + config.token.trim()); } });",
  );
  t.is(error.problems[0]?.message, 'module "backup-secret" failed to start: bad token ***');
  assertNoMarker(t, inspect(error, { depth: 8 }));
});

test('a backend factory that throws a Strata error quoting no secret is reported as it is', async (t) => {
  const error = await failureOf(
    "container.register(BACKUP_BACKEND, { useFactory: () => { throw new ConfigValueError({ problem: 'no region' }); } });",
  );
  t.is(error.problems[0]?.code, 'STRATA_CONFIG_INVALID_VALUE');
});

test('a parser error quoting a secret as set or trimmed is redacted', (t) => {
  const spec: ConfigSpec = {
    key: {
      name: 'K',
      secret: true,
      description: 'k',
      parse: (raw) => {
        throw new Error(`"${raw}" and "${raw.trim()}" are wrong`);
      },
    },
  };
  const { problems } = readModuleConfig('m', spec, { K: ` ${KEY} ` });
  t.is(problems[0]?.message, 'm: K="***" is invalid: "***" and "***" are wrong');
});

test('the redacted copy holds no secret: no way of printing or copying it shows one', (t) => {
  const spec: ConfigSpec = {
    key: { name: 'K', secret: true, description: 'k' },
    keys: { name: 'KS', secret: true, parse: (raw) => raw.split(','), description: 'ks' },
    fallback: { name: 'F', secret: true, default: TOKEN, description: 'f' },
    plain: { name: 'P', description: 'p' },
  };
  const { config: read } = readModuleConfig('m', spec, { K: KEY, KS: `${KEY},${TOKEN}`, P: 'visible' });
  const { redacted } = read;
  t.deepEqual(redacted, { key: '***', keys: '***', fallback: '***', plain: 'visible' });
  t.true(Object.isFrozen(redacted));
  const printed: string[] = [];
  const sink = new Writable({
    write(chunk, _, done) {
      printed.push(String(chunk));
      done();
    },
  });
  // pino with wildcard redaction clones what it logs: the clone of `values` once held the real secrets.
  pino({ redact: ['*.authorization'] }, sink).info({ config: redacted });
  for (const shown of [
    JSON.stringify(redacted),
    inspect(redacted),
    String(redacted.key),
    `${redacted.keys}`,
    JSON.stringify({ ...redacted }),
    JSON.stringify(structuredClone(redacted)),
    JSON.stringify(Object.entries(redacted)),
    printed.join(''),
  ]) {
    assertNoMarker(t, shown);
  }
  t.is(read.redact(`${KEY},${TOKEN} then ${TOKEN}`), '*** then ***', 'the list goes whole, then each item');
});

test('the values a module receives print secrets as *** through JSON.stringify and util.inspect', (t) => {
  const spec: ConfigSpec = { key: { name: 'K', secret: true, description: 'k' } };
  const { values } = readModuleConfig('m', spec, { K: KEY }).config;
  t.is(values.key, KEY);
  t.true(Object.isFrozen(values));
  for (const shown of [JSON.stringify(values), inspect(values), String(values)]) assertNoMarker(t, shown);
});
