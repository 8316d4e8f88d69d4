import test from 'ava';
import { startNode } from '../helpers/node.js';

// A known path with a method Strata does not serve answers 405 with go-swagger's body and an Allow
// header listing the methods it does serve, derived from the routes registered.

const ID = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';

/** The status, Allow header and body of a request; the helper's request drops headers. */
async function raw(url: string, method: string, path: string) {
  const response = await fetch(`${url}${path}`, { method });
  const text = await response.text();
  return {
    status: response.status,
    allow: response.headers.get('allow'),
    body: text === '' ? undefined : JSON.parse(text),
  };
}

const cases: ReadonlyArray<[string, string, string]> = [
  ['PUT', '/v1/schema', 'GET,POST'],
  ['DELETE', '/v1/objects', 'GET,POST'],
  ['POST', `/v1/objects/Article/${ID}`, 'DELETE,GET,HEAD,PATCH,PUT'],
  ['POST', `/v1/objects/${ID}`, 'DELETE,GET,HEAD,PATCH,PUT'],
  ['GET', '/v1/graphql', 'POST'],
  ['DELETE', '/v1/meta', 'GET'],
  ['PUT', '/v1/backups/filesystem/some-backup/restore', 'DELETE,GET,POST'],
];

for (const [method, path, allowed] of cases) {
  test(`${method} ${path} answers 405, allowing ${allowed}`, async (t) => {
    const { url } = await startNode(t);
    t.deepEqual(await raw(url, method, path), {
      status: 405,
      allow: allowed,
      body: { code: 405, message: `method ${method} is not allowed, but [${allowed}] are` },
    });
  });
}

test('HEAD of a path served only by GET answers 405 without a body, as go-swagger does', async (t) => {
  const { url } = await startNode(t);
  t.deepEqual(await raw(url, 'HEAD', '/v1/schema'), { status: 405, allow: 'GET,POST', body: undefined });
});

test('a path no route serves still answers 404, whatever the method', async (t) => {
  const { url } = await startNode(t);
  for (const method of ['GET', 'PUT']) {
    t.deepEqual(await raw(url, method, '/v1/nothing/here?x=1'), {
      status: 404,
      allow: null,
      body: { code: 404, message: 'path /v1/nothing/here was not found' },
    });
  }
  t.is((await raw(url, 'GET', '/v1/objects/Article/x/y')).status, 404, 'a parameter is one segment');
});
