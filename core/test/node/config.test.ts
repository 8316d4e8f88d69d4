import test from 'ava';
import { NODE_NAME_RULE } from '../../src/db/names.js';
import { InvalidNodeNameError, type StrataError } from '../../src/errors.js';
import { readNodeConfig } from '../../src/node/index.js';

test('defaults: ./data under the working directory, node1, no keys, info logs', (t) => {
  t.deepEqual(readNodeConfig({}, '/srv/app'), {
    dataPath: '/srv/app/data',
    hostname: 'node1',
    apiKeys: [],
    anonymousAccess: true,
    logLevel: 'info',
    chunkTargetBytes: 16 * 1024 * 1024,
  });
});

test('BACKUP_CHUNK_TARGET_SIZE takes a size with a unit, and refuses anything else', (t) => {
  t.is(readNodeConfig({ BACKUP_CHUNK_TARGET_SIZE: '64KiB' }).chunkTargetBytes, 64 * 1024);
  t.is(readNodeConfig({ BACKUP_CHUNK_TARGET_SIZE: '1GB' }).chunkTargetBytes, 1e9);
  const error = t.throws(() => readNodeConfig({ BACKUP_CHUNK_TARGET_SIZE: 'big' })) as StrataError & {
    problems: StrataError[];
  };
  t.regex(error.problems[0]?.message ?? '', /^strata: BACKUP_CHUNK_TARGET_SIZE="big" is invalid: /);
});

test('API keys switch anonymous access off unless it is asked for', (t) => {
  const config = readNodeConfig(
    { AUTHENTICATION_APIKEY_ENABLED: 'true', AUTHENTICATION_APIKEY_ALLOWED_KEYS: ' a , b ,' },
    '/',
  );
  t.deepEqual([config.apiKeys, config.anonymousAccess], [['a', 'b'], false]);
});

test('every problem of the node configuration is reported together, keys never shown', (t) => {
  const error = t.throws(() =>
    readNodeConfig({
      AUTHENTICATION_APIKEY_ENABLED: 'yes please',
      LOG_LEVEL: 'loud',
      CLUSTER_HOSTNAME: 'node 1',
      AUTHENTICATION_APIKEY_ALLOWED_KEYS: 'top-secret',
    }),
  ) as StrataError & { problems: StrataError[] };
  t.is(error.code, 'STRATA_NODE_CONFIG_INVALID');
  t.deepEqual(
    error.problems.map((p) => p.message),
    [
      'strata: CLUSTER_HOSTNAME="node 1" is invalid: use 1 to 64 letters, digits, "_", "-" and "." (but not "." or "..")',
      'strata: AUTHENTICATION_APIKEY_ENABLED="yes please" is invalid: expected true or false',
      'strata: LOG_LEVEL="loud" is invalid: expected one of trace, debug, info, warn, error, fatal, silent',
    ],
  );
  t.true(error.message.startsWith('node configuration: 3 problems:'));
  t.false(error.message.includes('top-secret'));
});

test('API keys enabled without keys, or with a mismatched user list, are refused', (t) => {
  type Invalid = StrataError & { problems: StrataError[] };
  const empty = t.throws(() => readNodeConfig({ AUTHENTICATION_APIKEY_ENABLED: 'true' })) as Invalid;
  t.like(empty.problems, [
    {
      code: 'STRATA_NODE_API_KEYS_MISSING',
      message:
        'AUTHENTICATION_APIKEY_ENABLED is true, but AUTHENTICATION_APIKEY_ALLOWED_KEYS is empty: set the keys clients must present, comma-separated',
    },
  ]);
  const users = t.throws(() =>
    readNodeConfig({
      AUTHENTICATION_APIKEY_ENABLED: 'true',
      AUTHENTICATION_APIKEY_ALLOWED_KEYS: 'a,b,c',
      AUTHENTICATION_APIKEY_USERS: 'x,y',
    }),
  ) as Invalid;
  t.like(users.problems, [
    {
      code: 'STRATA_NODE_API_KEY_USERS_MISMATCH',
      message: 'AUTHENTICATION_APIKEY_USERS names 2 users for 3 keys: give one user for all keys, or one per key',
    },
  ]);
});

test('CLUSTER_HOSTNAME "." or "..", which would be a path segment pointing up, is refused', (t) => {
  for (const name of ['.', '..']) {
    const error = t.throws(() => readNodeConfig({ CLUSTER_HOSTNAME: name })) as StrataError & {
      problems: StrataError[];
    };
    t.regex(error.problems[0]?.message ?? '', /CLUSTER_HOSTNAME=.* is invalid: .*but not "\." or "\.\."/);
  }
  t.is(readNodeConfig({ CLUSTER_HOSTNAME: 'node-1.eu' }).hostname, 'node-1.eu');
});

test('the CLUSTER_HOSTNAME message states the rule the node name is checked against', (t) => {
  // errors.ts holds the message, db/names.ts the pattern and its rule for descriptor checks: one rule.
  t.is(new InvalidNodeNameError().message, NODE_NAME_RULE);
});
