import test from 'ava';
import { startNode } from '../helpers/node.js';

test('a batch with valid and invalid objects reports each one, in order, and stores the valid ones', async (t) => {
  const { request } = await startNode(t);
  await request('POST', '/v1/schema', {
    class: 'Book',
    properties: [
      { name: 'title', dataType: ['text'] },
      { name: 'pages', dataType: ['int'] },
    ],
  });
  const existing = (await request('POST', '/v1/objects', { class: 'Book', properties: { title: 'Old' } })).body;
  const objects = [
    { class: 'Book', properties: { title: 'Valid one', pages: 100 } },
    { class: 'Nowhere', properties: { title: 'unknown class' } },
    { class: 'Book', properties: { pages: 'many' } },
    { class: 'Book', properties: { colour: 'red' } },
    { class: 'Book', id: existing.id, properties: { title: 'Overwritten' } },
    { class: 'Book', tenant: 'tenant-a', properties: { title: 'tenant' } },
    { class: 'Book', id: '5a0ec7cc-13b4-4e3c-9c0f-6e3a3a7a0b11', properties: { title: 'Valid two' } },
  ];
  const reply = await request('POST', '/v1/batch/objects', { objects });
  t.is(reply.status, 200);
  t.is(reply.body.length, objects.length);
  t.deepEqual(
    reply.body.map((r: { result: { status: string; errors?: { error: Array<{ message: string }> } } }) => [
      r.result.status,
      r.result.errors?.error[0]?.message ?? null,
    ]),
    [
      ['SUCCESS', null],
      ['FAILED', 'class "Nowhere" not found in schema'],
      ['FAILED', "invalid int property 'pages' on class 'Book': requires an integer, the given value is 'many'"],
      [
        'FAILED',
        "no such prop with name 'colour' found in class 'Book' in the schema. Check your schema files for which properties in this class are available",
      ],
      ['SUCCESS', null],
      ['FAILED', 'class Book has multi-tenancy disabled, but request was with tenant'],
      ['SUCCESS', null],
    ],
  );
  t.is(reply.body[6].id, '5a0ec7cc-13b4-4e3c-9c0f-6e3a3a7a0b11');
  t.is(reply.body[4].creationTimeUnix, existing.creationTimeUnix, 'an overwrite keeps the creation time');

  const stored = (await request('GET', '/v1/objects?class=Book&limit=100')).body.objects.map(
    (o: { properties: { title?: string } }) => o.properties.title,
  );
  t.deepEqual(stored.sort(), ['Overwritten', 'Valid one', 'Valid two']);
});

test('an empty batch answers an empty list', async (t) => {
  const { request } = await startNode(t);
  const reply = await request('POST', '/v1/batch/objects', { objects: [] });
  t.deepEqual([reply.status, reply.body], [200, []]);
});
