import test from 'ava';
import { startNode } from '../helpers/node.js';

/**
 * Malformed requests: each answered 4xx with the body Weaviate's API would send (never 500, never a
 * crash). Validation and parsing errors use go-openapi's {code, message}; handler errors Weaviate's
 * {"error":[{"message"}]}.
 */
const cases: ReadonlyArray<{
  title: string;
  method: string;
  path: string;
  body?: unknown;
  status: number;
  reply: unknown;
}> = [
  {
    title: 'bad JSON',
    method: 'POST',
    path: '/v1/objects',
    body: '{"class": "Thing",',
    status: 400,
    reply: {
      code: 400,
      message: 'parsing body body from "" failed, because Expected double-quoted property name in JSON at position 18',
    },
  },
  {
    title: 'a body that is not an object',
    method: 'POST',
    path: '/v1/objects',
    body: '[1, 2]',
    status: 422,
    reply: { code: 601, message: 'body in body must be of type object' },
  },
  {
    title: 'no body',
    method: 'POST',
    path: '/v1/objects',
    body: '',
    status: 422,
    reply: { code: 602, message: 'body in body is required' },
  },
  {
    title: 'a class that is a number',
    method: 'POST',
    path: '/v1/objects',
    body: { class: 7 },
    status: 422,
    reply: { code: 601, message: 'class in body must be of type string' },
  },
  {
    title: 'a vector of strings',
    method: 'POST',
    path: '/v1/objects',
    body: { class: 'Thing', vector: ['a'] },
    status: 422,
    reply: { code: 601, message: 'vector.0 in body must be of type number: "a"' },
  },
  {
    title: 'an unknown class',
    method: 'POST',
    path: '/v1/objects',
    body: { class: 'Nowhere' },
    status: 422,
    reply: { error: [{ message: 'class "Nowhere" not found in schema' }] },
  },
  {
    title: 'no class',
    method: 'POST',
    path: '/v1/objects',
    body: { properties: {} },
    status: 422,
    reply: { error: [{ message: 'the given class is empty' }] },
  },
  {
    title: 'a bad UUID in the body',
    method: 'POST',
    path: '/v1/objects',
    body: { class: 'Thing', id: '1234' },
    status: 422,
    reply: { code: 601, message: 'id in body must be of type uuid: "1234"' },
  },
  {
    title: 'a bad UUID in the path',
    method: 'GET',
    path: '/v1/objects/Thing/not-a-uuid',
    status: 422,
    reply: { code: 601, message: 'id in path must be of type uuid: "not-a-uuid"' },
  },
  {
    title: 'a property of the wrong type',
    method: 'POST',
    path: '/v1/objects',
    body: { class: 'Thing', properties: { name: 3 } },
    status: 422,
    reply: { error: [{ message: "invalid text property 'name' on class 'Thing': not a string, but number" }] },
  },
  {
    title: 'properties that are a list',
    method: 'POST',
    path: '/v1/objects',
    body: { class: 'Thing', properties: [] },
    status: 422,
    reply: { code: 601, message: 'properties in body must be of type object' },
  },
  {
    title: 'a batch without objects',
    method: 'POST',
    path: '/v1/batch/objects',
    body: {},
    status: 422,
    reply: { code: 602, message: 'objects in body is required' },
  },
  {
    title: 'a class without a name',
    method: 'POST',
    path: '/v1/schema',
    body: { properties: [] },
    status: 422,
    reply: { code: 602, message: 'class in body is required' },
  },
  {
    title: 'a property without dataType',
    method: 'POST',
    path: '/v1/schema',
    body: { class: 'X', properties: [{ name: 'p' }] },
    status: 422,
    reply: { code: 602, message: 'properties.0.dataType in body is required' },
  },
  {
    title: 'a negative limit',
    method: 'GET',
    path: '/v1/objects?limit=-1',
    status: 422,
    reply: { code: 609, message: 'limit in query should be greater than or equal to 0' },
  },
  {
    title: 'a limit that is not a number',
    method: 'GET',
    path: '/v1/objects?limit=ten',
    status: 422,
    reply: { code: 601, message: 'limit in query must be of type integer: "ten"' },
  },
  {
    title: 'a page past the query maximum',
    method: 'GET',
    path: '/v1/objects?limit=10&offset=9995',
    status: 422,
    reply: { error: [{ message: 'query maximum results exceeded: offset + limit must not exceed 10000' }] },
  },
  {
    title: 'after without a class',
    method: 'GET',
    path: '/v1/objects?after=5a0ec7cc-13b4-4e3c-9c0f-6e3a3a7a0b11',
    status: 422,
    reply: { error: [{ message: "'after' can only be used together with 'class'" }] },
  },
  {
    title: 'a prototype-polluting body',
    method: 'POST',
    path: '/v1/objects',
    body: '{"class":"Thing","__proto__":{"x":1}}',
    status: 400,
    reply: {
      code: 400,
      message: 'parsing body body from "" failed, because Object contains forbidden prototype property',
    },
  },
  {
    title: 'an unknown path',
    method: 'GET',
    path: '/v1/nothing/here',
    status: 404,
    reply: { code: 404, message: 'path /v1/nothing/here was not found' },
  },
];

for (const { title, method, path, body, status, reply } of cases) {
  test(`${title} is answered ${status}`, async (t) => {
    const { request } = await startNode(t);
    await request('POST', '/v1/schema', { class: 'Thing', properties: [{ name: 'name', dataType: ['text'] }] });
    const answer = await request(method, path, body);
    t.is(answer.status, status);
    t.deepEqual(answer.body, reply);
  });
}

test('a body over the limit is refused with 413 and the node keeps serving', async (t) => {
  const { request } = await startNode(t);
  const huge = JSON.stringify({ objects: [{ class: 'Thing', properties: { name: 'x'.repeat(65 * 1024 * 1024) } }] });
  const answer = await request('POST', '/v1/batch/objects', huge);
  t.is(answer.status, 413);
  t.deepEqual(answer.body, {
    code: 413,
    message: 'request body is larger than the limit of 67108864 bytes; send smaller batches',
  });
  t.is((await request('GET', '/v1/.well-known/live')).status, 200);
});
