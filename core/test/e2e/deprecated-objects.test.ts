import test, { type ExecutionContext } from 'ava';
import weaviate from 'weaviate-ts-client';
import { startNode, type TestNode } from '../helpers/node.js';

// Weaviate's deprecated object paths without a class, which clients still call: the object is found
// in whichever class has it; PUT and PATCH take the class from the body.

const { client } = weaviate as unknown as typeof weaviate.default;

const ID = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';
const MISSING = '3f2504e0-4f89-41d3-9a0c-0305e82c3399';

/** A node with classes Article and Paper, and object ID in Paper only. */
async function seeded(t: ExecutionContext): Promise<TestNode> {
  const node = await startNode(t);
  for (const name of ['Article', 'Paper']) {
    const created = await node.request('POST', '/v1/schema', {
      class: name,
      properties: [
        { name: 'title', dataType: ['text'] },
        { name: 'year', dataType: ['int'] },
      ],
    });
    t.is(created.status, 200, JSON.stringify(created.body));
  }
  const object = { class: 'Paper', id: ID, properties: { title: 'On Backups', year: 2026 }, vector: [0.5, 1] };
  t.is((await node.request('POST', '/v1/objects', object)).status, 200);
  return node;
}

test('GET and HEAD /v1/objects/{id} find the object in whichever class has it', async (t) => {
  const { request } = await seeded(t);
  const got = await request('GET', `/v1/objects/${ID}`);
  t.is(got.status, 200);
  t.like(got.body, { class: 'Paper', id: ID, properties: { title: 'On Backups', year: 2026 } });
  t.is(got.body.vector, undefined, 'the vector only when asked for, as on the class path');
  t.deepEqual((await request('GET', `/v1/objects/${ID}?include=vector`)).body.vector, [0.5, 1]);
  t.deepEqual(await request('HEAD', `/v1/objects/${ID}`), { status: 204, body: undefined });
  t.deepEqual(await request('HEAD', `/v1/objects/${MISSING}`), { status: 404, body: undefined });
  t.deepEqual(await request('GET', `/v1/objects/${MISSING}`), { status: 404, body: undefined });
});

test('the deprecated paths refuse an id that is not a UUID, as the class paths do', async (t) => {
  const { request } = await seeded(t);
  for (const method of ['GET', 'HEAD', 'DELETE']) {
    const reply = await request(method, '/v1/objects/not-a-uuid');
    t.is(reply.status, 422, method);
  }
  t.deepEqual((await request('GET', '/v1/objects/not-a-uuid')).body, {
    code: 601,
    message: 'id in path must be of type uuid: "not-a-uuid"',
  });
});

test('on a node without classes the deprecated paths find nothing', async (t) => {
  const { request } = await startNode(t);
  t.is((await request('HEAD', `/v1/objects/${ID}`)).status, 404);
  t.is((await request('DELETE', `/v1/objects/${ID}`)).status, 404);
});

test('PUT /v1/objects/{id} replaces the object of the class its body names', async (t) => {
  const { request } = await seeded(t);
  const replaced = await request('PUT', `/v1/objects/${ID}`, { class: 'Paper', properties: { title: 'Renamed' } });
  t.is(replaced.status, 200, JSON.stringify(replaced.body));
  t.like(replaced.body, { class: 'Paper', id: ID, properties: { title: 'Renamed' } });
  t.deepEqual((await request('GET', `/v1/objects/Paper/${ID}`)).body.properties, { title: 'Renamed' });

  t.is(
    (await request('PUT', `/v1/objects/${ID}`, { class: 'Article', properties: { title: 'x' } })).status,
    404,
    'the body names a class without that object',
  );
  t.is((await request('PUT', `/v1/objects/${MISSING}`, { class: 'Paper', properties: {} })).status, 404);
  const mismatch = await request('PUT', `/v1/objects/${ID}`, { class: 'Paper', id: MISSING, properties: {} });
  t.is(mismatch.status, 422);
});

test('PATCH /v1/objects/{id} merges into the object of the class its body names', async (t) => {
  const { request } = await seeded(t);
  const patched = await request('PATCH', `/v1/objects/${ID}`, { class: 'Paper', properties: { year: 2030 } });
  t.deepEqual(patched, { status: 204, body: undefined });
  t.deepEqual((await request('GET', `/v1/objects/Paper/${ID}`)).body.properties, { title: 'On Backups', year: 2030 });
  t.is((await request('PATCH', `/v1/objects/${MISSING}`, { class: 'Paper', properties: {} })).status, 404);
  const invalid = await request('PATCH', `/v1/objects/${ID}`, { class: 'Paper', properties: { year: 'soon' } });
  t.is(invalid.status, 422);
});

test('PUT and PATCH /v1/objects/{id} without a class in the body say where to give it', async (t) => {
  const { request } = await seeded(t);
  for (const method of ['PUT', 'PATCH']) {
    for (const body of [{ properties: { title: 'x' } }, { class: '', properties: {} }]) {
      const reply = await request(method, `/v1/objects/${ID}`, body);
      t.is(reply.status, 422, method);
      t.deepEqual(reply.body, {
        error: [
          {
            message:
              `${method} /v1/objects/{id} takes the object's class from the body, and the body has no "class": ` +
              `give "class", or use ${method} /v1/objects/{className}/{id}`,
          },
        ],
      });
    }
  }
  t.deepEqual((await request('GET', `/v1/objects/Paper/${ID}`)).body.properties, { title: 'On Backups', year: 2026 });
});

test('an id in two classes: GET answers the first class in schema order, DELETE deletes it from both', async (t) => {
  const { request } = await seeded(t);
  await request('POST', '/v1/objects', { class: 'Article', id: ID, properties: { title: 'Also here' } });
  t.is((await request('GET', `/v1/objects/${ID}`)).body.class, 'Article', 'Article was created first');

  t.deepEqual(await request('DELETE', `/v1/objects/${ID}`), { status: 204, body: undefined });
  t.is((await request('GET', `/v1/objects/Article/${ID}`)).status, 404);
  t.is((await request('GET', `/v1/objects/Paper/${ID}`)).status, 404);
  t.is((await request('DELETE', `/v1/objects/${ID}`)).status, 404, 'nothing left to delete');
});

test("Weaviate's TypeScript client reads, checks and deletes by id alone", async (t) => {
  const { url } = await seeded(t);
  const weaviateClient = client({ scheme: 'http', host: url.replace('http://', '') });
  const fetched = await weaviateClient.data.getterById().withId(ID).do();
  t.like(fetched, { class: 'Paper', id: ID });
  t.true(await weaviateClient.data.checker().withId(ID).do());
  await weaviateClient.data.deleter().withId(ID).do();
  t.false(await weaviateClient.data.checker().withId(ID).do());
});
