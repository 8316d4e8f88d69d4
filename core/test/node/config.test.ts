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
    cluster: undefined,
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

test("CLUSTER_ETCD_ENDPOINTS switches cluster mode on, with Weaviate's data port by default", (t) => {
  t.deepEqual(readNodeConfig({ CLUSTER_ETCD_ENDPOINTS: 'http://10.0.0.1:2379, https://etcd-2:2379/' }).cluster, {
    etcdEndpoints: ['http://10.0.0.1:2379', 'https://etcd-2:2379'],
    dataBindPort: 7947,
    advertiseAddr: undefined,
    auth: undefined,
    leaseTtlSeconds: 10,
  });
  const tuned = readNodeConfig({
    CLUSTER_ETCD_ENDPOINTS: 'http://127.0.0.1:2379',
    CLUSTER_DATA_BIND_PORT: '0',
    CLUSTER_ADVERTISE_ADDR: 'node2.internal',
    CLUSTER_BASIC_AUTH_USERNAME: 'cluster',
    CLUSTER_BASIC_AUTH_PASSWORD: 'hunter2',
    CLUSTER_LEASE_TTL_SECONDS: '2',
  }).cluster;
  t.like(tuned, { dataBindPort: 0, advertiseAddr: 'node2.internal', leaseTtlSeconds: 2 });
  t.deepEqual(tuned?.auth, { username: 'cluster', password: 'hunter2' });
});

test('cluster variables are checked with the others, all problems together, the password never shown', (t) => {
  const error = t.throws(() =>
    readNodeConfig({
      CLUSTER_ETCD_ENDPOINTS: 'http://127.0.0.1:2379,etcd:2379',
      CLUSTER_DATA_BIND_PORT: '70000',
      CLUSTER_ADVERTISE_ADDR: 'http://node2:7947',
      CLUSTER_BASIC_AUTH_PASSWORD: 'hunter2',
      CLUSTER_LEASE_TTL_SECONDS: '0',
      LOG_LEVEL: 'loud',
    }),
  ) as StrataError & { problems: StrataError[] };
  const problems = error.problems.map((p) => p.message);
  t.is(problems.length, 6);
  t.regex(
    problems[0] ?? '',
    /CLUSTER_ETCD_ENDPOINTS=.* "etcd:2379" is not an etcd client URL: give each as http:\/\/host:port/,
  );
  t.regex(problems[1] ?? '', /^strata: CLUSTER_DATA_BIND_PORT="70000" is invalid: expected a number from 0 to 65535/);
  t.regex(problems[2] ?? '', /^strata: CLUSTER_ADVERTISE_ADDR=.*without a scheme or a port/);
  t.regex(problems[3] ?? '', /^strata: CLUSTER_LEASE_TTL_SECONDS="0" is invalid: expected a number from 1 to 300/);
  t.regex(problems[4] ?? '', /^strata: LOG_LEVEL=/);
  t.regex(problems[5] ?? '', /^CLUSTER_BASIC_AUTH_USERNAME and CLUSTER_BASIC_AUTH_PASSWORD go together/);
  t.false(error.message.includes('hunter2'));
});

for (const endpoint of [
  'ftp://etcd:2379',
  'http://etcd',
  'http://etcd:2379/v3',
  'http://etcd:2379?x=1',
  'http://u@etcd:2379',
]) {
  test(`an etcd endpoint ${endpoint} is refused`, (t) => {
    const error = t.throws(() => readNodeConfig({ CLUSTER_ETCD_ENDPOINTS: endpoint })) as StrataError & {
      problems: StrataError[];
    };
    t.regex(error.problems[0]?.message ?? '', /is not an etcd client URL/);
  });
}
