import test from 'ava';
import { startNode } from '../helpers/node.js';

const keys = {
  AUTHENTICATION_APIKEY_ENABLED: 'true',
  AUTHENTICATION_APIKEY_ALLOWED_KEYS: 'first-secret-key,second-secret-key',
};

test('with API keys on, every endpoint but the probes needs a valid Bearer key', async (t) => {
  const { request } = await startNode(t, keys);
  const anonymous = await request('GET', '/v1/schema');
  t.is(anonymous.status, 401);
  t.deepEqual(anonymous.body, {
    code: 401,
    message: 'anonymous access not enabled. Please authenticate through one of the available methods: [api key]',
  });
  const wrong = await request('GET', '/v1/schema', undefined, { authorization: 'Bearer not-a-key' });
  t.deepEqual([wrong.status, wrong.body], [401, { code: 401, message: 'invalid api key' }]);
  const prefix = await request('GET', '/v1/schema', undefined, { authorization: 'Bearer first-secret' });
  t.is(prefix.status, 401, 'a prefix of a key is not a key');
  for (const key of ['first-secret-key', 'second-secret-key']) {
    t.is((await request('GET', '/v1/schema', undefined, { authorization: `Bearer ${key}` })).status, 200);
  }
  t.is((await request('GET', '/v1/meta')).status, 401);
  t.is((await request('GET', '/v1/.well-known/live')).status, 200);
  t.is((await request('GET', '/v1/.well-known/ready')).status, 200);
});

test('a key without the Bearer scheme is refused with how to send it, as Weaviate does', async (t) => {
  const { request } = await startNode(t, keys);
  const scheme = {
    code: 401,
    message: 'the Authorization header must use the Bearer scheme: send "Authorization: Bearer <key>"',
  };
  for (const authorization of ['first-secret-key', 'Basic Zmlyc3Q6c2VjcmV0', 'Bearer', 'Bearerfirst-secret-key']) {
    const reply = await request('GET', '/v1/schema', undefined, { authorization });
    t.deepEqual([reply.status, reply.body], [401, scheme], authorization);
  }
  t.is((await request('GET', '/v1/schema', undefined, { authorization: 'bearer first-secret-key' })).status, 200);
  t.is((await request('GET', '/v1/schema', undefined, { authorization: 'Bearer \tsecond-secret-key' })).status, 200);
  const anonymous = await startNode(t, { ...keys, AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED: 'true' });
  const bare = await anonymous.request('GET', '/v1/schema', undefined, { authorization: 'first-secret-key' });
  t.deepEqual([bare.status, bare.body], [401, scheme], 'a malformed header is not taken for anonymous access');
});

test('API keys never reach the log', async (t) => {
  const { request, logs } = await startNode(t, keys);
  await request('GET', '/v1/schema', undefined, { authorization: 'Bearer first-secret-key' });
  await request('GET', '/v1/schema', undefined, { authorization: 'Bearer wrong-secret-key' });
  const text = JSON.stringify(logs);
  t.true(text.includes('"url":"/v1/schema"'), 'requests are logged');
  t.false(text.includes('secret-key'), 'a key was logged');
});

test('anonymous access can be switched back on beside API keys, as in Weaviate', async (t) => {
  const { request } = await startNode(t, { ...keys, AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED: 'true' });
  t.is((await request('GET', '/v1/schema')).status, 200);
  t.is((await request('GET', '/v1/schema', undefined, { authorization: 'Bearer nope' })).status, 401);
});

test('with API keys off, no key is needed', async (t) => {
  const { request } = await startNode(t);
  t.is((await request('GET', '/v1/schema')).status, 200);
});

test('with API keys on, a path the node does not serve answers 404 or 405 before any key is asked for, as go-swagger routes first', async (t) => {
  const { request } = await startNode(t, keys);
  const unknown = await request('GET', '/v1/nothing-here');
  t.deepEqual([unknown.status, unknown.body.code], [404, 404]);
  const method = await request('PUT', '/v1/schema');
  t.deepEqual([method.status, method.body.code], [405, 405]);
  t.is((await request('GET', '/v1/schema')).status, 401, 'a served path still needs the key');
});
