import { access } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { startNode } from '../helpers/node.js';

const article = {
  class: 'article',
  description: 'News articles',
  properties: [
    { name: 'title', dataType: ['text'] },
    { name: 'wordCount', dataType: ['int'] },
    { name: 'published', dataType: ['date'] },
    { name: 'tags', dataType: ['text[]'] },
  ],
};

test('class lifecycle: create (name capitalised, defaults filled), list, get, duplicate refused, delete', async (t) => {
  const { request, dataPath } = await startNode(t);
  const created = await request('POST', '/v1/schema', article);
  t.is(created.status, 200);
  t.is(created.body.class, 'Article');
  t.like(created.body, {
    vectorizer: 'none',
    multiTenancyConfig: { enabled: false },
    shardingConfig: { desiredCount: 1, actualCount: 1 },
  });
  t.like(created.body.properties[0], {
    name: 'title',
    dataType: ['text'],
    tokenization: 'word',
    indexFilterable: true,
  });

  t.deepEqual(
    (await request('GET', '/v1/schema')).body.classes.map((c: { class: string }) => c.class),
    ['Article'],
  );
  t.is((await request('GET', '/v1/schema/Article')).body.class, 'Article');
  t.is((await request('GET', '/v1/schema/article')).status, 200, 'lookups capitalise the first letter, as Weaviate');
  t.is((await request('GET', '/v1/schema/Nothing')).status, 404);

  const duplicate = await request('POST', '/v1/schema', { class: 'Article' });
  t.is(duplicate.status, 422);
  t.deepEqual(duplicate.body, { error: [{ message: 'class name Article already exists' }] });

  await request('POST', '/v1/objects', { class: 'Article', properties: { title: 'kept until the class goes' } });
  const deleted = await request('DELETE', '/v1/schema/Article');
  t.is(deleted.status, 200);
  t.deepEqual((await request('GET', '/v1/schema')).body, { classes: [] });
  await t.throwsAsync(access(join(dataPath, 'article')), { code: 'ENOENT' }, "the class's data is removed");
  t.is(
    (await request('DELETE', '/v1/schema/Article')).status,
    200,
    'deleting a missing class answers 200, as Weaviate',
  );
});

const invalidClasses: ReadonlyArray<[string, unknown, string]> = [
  ['a name with a dash', { class: 'Bad-Name' }, "'Bad-Name' is not a valid class name"],
  [
    'a bad property name',
    { class: 'C', properties: [{ name: 'bad name', dataType: ['text'] }] },
    "'bad name' is not a valid property name.",
  ],
  [
    'an unknown data type',
    { class: 'C', properties: [{ name: 'p', dataType: ['blobby'] }] },
    "property 'p': invalid dataType: data type not found: blobby",
  ],
  [
    'a duplicate property',
    {
      class: 'C',
      properties: [
        { name: 'p', dataType: ['text'] },
        { name: 'P', dataType: ['int'] },
      ],
    },
    'class "C": conflict for property "p": already in use or provided multiple times',
  ],
  [
    'a cross-reference',
    { class: 'C', properties: [{ name: 'author', dataType: ['Person'] }] },
    "property 'author' of class 'C' is a cross-reference to 'Person': Strata does not support cross-references",
  ],
  [
    'multi-tenancy',
    { class: 'C', multiTenancyConfig: { enabled: true } },
    "class 'C': multi-tenancy is not supported by Strata",
  ],
  [
    'replication',
    { class: 'C', replicationConfig: { factor: 3 } },
    "class 'C': replicationConfig.factor 3 is not supported: Strata keeps one copy of each shard",
  ],
  [
    'a vectorizer module',
    { class: 'C', vectorizer: 'text2vec-openai' },
    'vectorizer: no module with name "text2vec-openai" present',
  ],
  [
    'too many shards',
    { class: 'C', shardingConfig: { desiredCount: 65 } },
    'shardingConfig.desiredCount must be a whole number from 1 to 64',
  ],
];

for (const [title, body, message] of invalidClasses) {
  test(`a class with ${title} is refused with 422`, async (t) => {
    const { request } = await startNode(t);
    const reply = await request('POST', '/v1/schema', body);
    t.is(reply.status, 422);
    t.true(reply.body.error[0].message.startsWith(message), reply.body.error[0].message);
  });
}

test('object lifecycle: create, get, head, put, patch, delete, with Weaviate status codes', async (t) => {
  const { request } = await startNode(t);
  await request('POST', '/v1/schema', article);

  const created = await request('POST', '/v1/objects', {
    class: 'Article',
    properties: { title: 'First', wordCount: 120, published: '2026-01-02T03:04:05Z', tags: ['a', 'b'] },
    vector: [0.1, 0.2, 0.3],
  });
  t.is(created.status, 200);
  const id = created.body.id as string;
  t.regex(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  t.like(created.body, { class: 'Article', properties: { title: 'First', wordCount: 120 }, vector: [0.1, 0.2, 0.3] });
  t.true(created.body.creationTimeUnix > 0);

  const fetched = await request('GET', `/v1/objects/Article/${id}`);
  t.is(fetched.status, 200);
  t.is(fetched.body.vector, undefined, 'the vector only comes with include=vector');
  t.deepEqual((await request('GET', `/v1/objects/Article/${id}?include=vector`)).body.vector, [0.1, 0.2, 0.3]);
  t.is((await request('HEAD', `/v1/objects/Article/${id}`)).status, 204);

  const duplicate = await request('POST', '/v1/objects', { class: 'Article', id, properties: {} });
  t.deepEqual([duplicate.status, duplicate.body], [422, { error: [{ message: `id '${id}' already exists` }] }]);

  const replaced = await request('PUT', `/v1/objects/Article/${id}`, {
    class: 'Article',
    id,
    properties: { title: 'Second' },
  });
  t.is(replaced.status, 200);
  t.deepEqual(replaced.body.properties, { title: 'Second' });
  t.is(replaced.body.creationTimeUnix, created.body.creationTimeUnix, 'a replace keeps the creation time');

  const patched = await request('PATCH', `/v1/objects/Article/${id}`, {
    class: 'Article',
    properties: { wordCount: 7 },
  });
  t.is(patched.status, 204);
  t.deepEqual((await request('GET', `/v1/objects/Article/${id}`)).body.properties, { title: 'Second', wordCount: 7 });

  t.is((await request('DELETE', `/v1/objects/Article/${id}`)).status, 204);
  t.is((await request('GET', `/v1/objects/Article/${id}`)).status, 404);
  t.is((await request('HEAD', `/v1/objects/Article/${id}`)).status, 404);
  t.is((await request('DELETE', `/v1/objects/Article/${id}`)).status, 404);
  t.is((await request('PUT', `/v1/objects/Article/${id}`, { class: 'Article', properties: {} })).status, 404);
  t.is((await request('PATCH', `/v1/objects/Article/${id}`, { properties: {} })).status, 404);
});

test('listing pages through a sharded class in id order with limit and after', async (t) => {
  const { request } = await startNode(t);
  await request('POST', '/v1/schema', { ...article, shardingConfig: { desiredCount: 3 } });
  const ids: string[] = [];
  for (let i = 0; i < 40; i++)
    ids.push((await request('POST', '/v1/objects', { class: 'Article', properties: { wordCount: i } })).body.id);
  ids.sort();

  const seen: string[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await request(
      'GET',
      `/v1/objects?class=Article&limit=7${after === undefined ? '' : `&after=${after}`}`,
    );
    t.is(page.status, 200);
    t.is(page.body.totalResults, page.body.objects.length);
    if (page.body.objects.length === 0) break;
    for (const object of page.body.objects) seen.push(object.id);
    after = seen[seen.length - 1];
  }
  t.deepEqual(seen, ids, 'every object once, in id order, across 3 shards');

  const offset = await request('GET', '/v1/objects?class=Article&limit=5&offset=10');
  t.deepEqual(
    offset.body.objects.map((o: { id: string }) => o.id),
    ids.slice(10, 15),
  );
  t.is((await request('GET', '/v1/objects')).body.objects.length, 25, 'the default limit is 25, across classes');
});
