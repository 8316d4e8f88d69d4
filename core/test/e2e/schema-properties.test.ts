import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { startBackupNode, waitFor } from '../helpers/backups.js';
import { startNode } from '../helpers/node.js';

// Properties as Weaviate 1.35 normalizes and validates them (usecases/schema: setPropertyDefaults,
// validateProperty, migratePropertySettings), through POST /v1/schema.

const created = async (t: Parameters<typeof startNode>[0], properties: unknown[]) => {
  const { request } = await startNode(t);
  const reply = await request('POST', '/v1/schema', { class: 'C', properties });
  const listed = await request('GET', '/v1/schema/C');
  return { reply, stored: listed.body?.properties };
};

const normalized: ReadonlyArray<[string, Record<string, unknown>, Record<string, unknown>]> = [
  [
    'text gets word tokenization and both indexes',
    { name: 'p', dataType: ['text'] },
    { name: 'p', dataType: ['text'], tokenization: 'word', indexFilterable: true, indexSearchable: true },
  ],
  [
    "a name's first letter is lower-cased, as Weaviate stores names",
    { name: 'WordCount', dataType: ['int'] },
    { name: 'wordCount', dataType: ['int'] },
  ],
  [
    'tokenization "" is unset, so text gets word',
    { name: 'p', dataType: ['text'], tokenization: '' },
    { name: 'p', dataType: ['text'], tokenization: 'word' },
  ],
  [
    'tokenization "" on an int is unset, so none',
    { name: 'p', dataType: ['int'], tokenization: '' },
    { name: 'p', dataType: ['int'], indexFilterable: true, indexSearchable: false, indexRangeFilters: false },
  ],
  [
    'null fields are left out',
    { name: 'p', dataType: ['int'], tokenization: null, indexInverted: null, description: null },
    { name: 'p', dataType: ['int'], indexFilterable: true, indexSearchable: false, indexRangeFilters: false },
  ],
  [
    'string becomes text with whitespace tokenization (word by default)',
    { name: 'p', dataType: ['string'] },
    { name: 'p', dataType: ['text'], tokenization: 'whitespace', indexSearchable: true },
  ],
  [
    'string[] with field tokenization becomes text[] with field',
    { name: 'p', dataType: ['string[]'], tokenization: 'field' },
    { name: 'p', dataType: ['text[]'], tokenization: 'field' },
  ],
  [
    'indexInverted false on text turns off both indexes and is not kept',
    { name: 'p', dataType: ['text'], indexInverted: false },
    { name: 'p', dataType: ['text'], indexFilterable: false, indexSearchable: false, indexRangeFilters: false },
  ],
  [
    'indexInverted true on an int is filterable, not searchable',
    { name: 'p', dataType: ['int'], indexInverted: true },
    { name: 'p', dataType: ['int'], indexFilterable: true, indexSearchable: false, indexRangeFilters: false },
  ],
  [
    'a nested text property gets word tokenization, a nested blob no filter index',
    {
      name: 'p',
      dataType: ['object'],
      nestedProperties: [
        { name: 'q', dataType: ['text'] },
        { name: 'r', dataType: ['blob'] },
      ],
    },
    {
      name: 'p',
      nestedProperties: [
        { name: 'q', dataType: ['text'], tokenization: 'word', indexFilterable: true, indexSearchable: true },
        { name: 'r', dataType: ['blob'], indexFilterable: false, indexSearchable: false, indexRangeFilters: false },
      ],
    },
  ],
];

for (const [title, property, expected] of normalized) {
  test(`a property is stored as Weaviate stores it: ${title}`, async (t) => {
    const { reply, stored } = await created(t, [property]);
    t.is(reply.status, 200, JSON.stringify(reply.body));
    t.like(reply.body.properties[0], expected);
    t.deepEqual(reply.body.properties, stored, 'GET answers what POST answered');
    t.false('indexInverted' in stored[0]);
    for (const [field, value] of Object.entries(stored[0])) t.not(value, null, `${field} is null`);
    if (!String(stored[0].dataType[0]).startsWith('text')) t.false('tokenization' in stored[0]);
  });
}

const refused: ReadonlyArray<[string, Record<string, unknown>, string]> = [
  [
    'tokenization on an int',
    { name: 'p', dataType: ['int'], tokenization: 'word' },
    "tokenization is not allowed for data type 'int'",
  ],
  [
    'tokenization on an object',
    { name: 'p', dataType: ['object'], tokenization: 'field', nestedProperties: [{ name: 'q', dataType: ['int'] }] },
    'tokenization is not allowed for object/object[] data types',
  ],
  [
    'a tokenization Weaviate has not',
    { name: 'p', dataType: ['text'], tokenization: 'letters' },
    "tokenization 'letters' is not allowed for data type 'text'",
  ],
  [
    'a tokenization string does not allow',
    { name: 'p', dataType: ['string'], tokenization: 'trigram' },
    "tokenization 'trigram' is not allowed for data type 'string'",
  ],
  [
    'an optional tokenizer',
    { name: 'p', dataType: ['text'], tokenization: 'kagome_ja' },
    "the Japanese tokenizer is not enabled; Strata has no optional tokenizers (Weaviate's ENABLE_TOKENIZER_KAGOME_JA): " +
      'use word, lowercase, whitespace, field or trigram',
  ],
  [
    'indexInverted with indexFilterable',
    { name: 'p', dataType: ['text'], indexInverted: true, indexFilterable: true },
    '`indexInverted` is deprecated and can not be set together with `indexFilterable`, `indexSearchable` or ' +
      '`indexRangeFilters`',
  ],
  [
    'indexInverted with indexSearchable',
    { name: 'p', dataType: ['text'], indexInverted: false, indexSearchable: false },
    '`indexInverted` is deprecated and can not be set together with `indexFilterable`, `indexSearchable` or ' +
      '`indexRangeFilters`',
  ],
  [
    'indexSearchable on an int',
    { name: 'p', dataType: ['int'], indexSearchable: true },
    '`indexSearchable` is allowed only for text/text[] data types. For other data types set false or leave empty',
  ],
  [
    'indexRangeFilters on a text',
    { name: 'p', dataType: ['text'], indexRangeFilters: true },
    '`indexRangeFilters` is allowed only for number/int/date data types. For other data types set false or leave empty',
  ],
  [
    'a tokenization that is not a string',
    { name: 'p', dataType: ['text'], tokenization: 3 },
    "property 'p': tokenization must be a string",
  ],
  [
    'an index flag that is not a boolean',
    { name: 'p', dataType: ['text'], indexFilterable: 'yes' },
    "property 'p': indexFilterable must be a boolean",
  ],
  [
    'nestedProperties on a text',
    { name: 'p', dataType: ['text'], nestedProperties: [{ name: 'q', dataType: ['int'] }] },
    "property 'p': nestedProperties not allowed for data types other than object/object[]",
  ],
  ...nested(
    'a nested string',
    { dataType: ['string'] },
    "data type 'string' is deprecated and not allowed as nested property",
  ),
  ...nested(
    'a nested geoCoordinates',
    { dataType: ['geoCoordinates'] },
    "data type 'geoCoordinates' not allowed as nested property",
  ),
  ...nested(
    'nested text tokenized trigram',
    { dataType: ['text'], tokenization: 'trigram' },
    "Tokenization 'trigram' is not allowed for data type 'text'",
  ),
  ...nested(
    'a tokenized nested int',
    { dataType: ['int'], tokenization: 'word' },
    "Tokenization is not allowed for data type 'int'",
  ),
  ...nested(
    'a tokenized nested object',
    { dataType: ['object'], tokenization: 'word', nestedProperties: [{ name: 'r', dataType: ['int'] }] },
    'Tokenization is not allowed for object/object[] data types',
  ),
  ...nested(
    'a nested int searchable',
    { dataType: ['int'], indexSearchable: true },
    '`indexSearchable` is not allowed for other than text/text[] data types',
  ),
  ...nested(
    'a nested text with a range index',
    { dataType: ['text'], indexRangeFilters: true },
    '`indexRangeFilters` is not allowed for other than number/int/date data types',
  ),
  ...nested(
    'a nested flag that is not a boolean',
    { dataType: ['int'], indexFilterable: 'yes' },
    'indexFilterable must be a boolean',
  ),
  [
    'a filterable nested blob',
    { name: 'p', dataType: ['object'], nestedProperties: [{ name: 'q', dataType: ['blob'], indexFilterable: true }] },
    // Weaviate's wording, colon included.
    "property: 'p.q': indexFilterable is not allowed for blob data type",
  ],
];

/** A row of `refused` for an object property `p` whose one nested property `q` is `fields`. */
function nested(
  title: string,
  fields: Record<string, unknown>,
  message: string,
): Array<[string, Record<string, unknown>, string]> {
  return [
    [
      title,
      { name: 'p', dataType: ['object'], nestedProperties: [{ name: 'q', ...fields }] },
      `property 'p.q': ${message}`,
    ],
  ];
}

for (const [title, property, message] of refused) {
  test(`a property with ${title} is refused with 422 and Weaviate's message, and nothing is stored`, async (t) => {
    const { reply, stored } = await created(t, [property]);
    t.deepEqual([reply.status, reply.body], [422, { error: [{ message }] }]);
    t.is(stored, undefined, 'the class was not created');
  });
}

/** Backs up a class C, rewrites its schema in the backup with `edit`, and asks to restore it. */
async function restoredWith(t: ExecutionContext, edit: (schema: Record<string, unknown>) => void) {
  const node = await startBackupNode(t);
  await node.request('POST', '/v1/schema', { class: 'C', properties: [{ name: 'p', dataType: ['text'] }] });
  await node.request('POST', '/v1/backups/filesystem', { id: 'old', include: ['C'] });
  t.is((await waitFor(node, '/v1/backups/filesystem/old')).body.status, 'SUCCESS');
  await node.request('DELETE', '/v1/schema/C');
  const descriptor = join(node.backups, 'old', 'node1', 'backup.json');
  const written = JSON.parse(await readFile(descriptor, 'utf8'));
  edit(written.classes[0].schema);
  await writeFile(descriptor, JSON.stringify(written));
  return { node, restore: await node.request('POST', '/v1/backups/filesystem/old/restore', {}) };
}

test('a class restored from a backup is normalized as POST /v1/schema normalizes it', async (t) => {
  const { node, restore: started } = await restoredWith(t, (schema) => {
    // As a Weaviate before 1.19 wrote it: string, indexInverted, a null tokenization.
    schema.properties = [{ name: 'p', dataType: ['string'], indexInverted: false, tokenization: null }];
  });
  t.is(started.status, 200, JSON.stringify(started.body));
  t.is((await waitFor(node, '/v1/backups/filesystem/old/restore')).body.status, 'SUCCESS');
  const [property] = (await node.request('GET', '/v1/schema/C')).body.properties;
  t.deepEqual(property, {
    name: 'p',
    dataType: ['text'],
    tokenization: 'whitespace',
    indexFilterable: false,
    indexSearchable: false,
    indexRangeFilters: false,
  });
});

test('a restore of a class with a property Weaviate refuses is refused with its message', async (t) => {
  const { node, restore } = await restoredWith(t, (schema) => {
    schema.properties = [{ name: 'p', dataType: ['int'], tokenization: 'word' }];
  });
  t.is(restore.status, 422);
  t.regex(restore.body.error[0].message, /classes\[0\]\.schema: tokenization is not allowed for data type 'int'$/);
  t.is((await node.request('GET', '/v1/schema/C')).status, 404);
});

test("a class gets Weaviate's defaults under what it gives: empty strings and nulls mean the default", async (t) => {
  const { request } = await startNode(t);
  const reply = await request('POST', '/v1/schema', {
    class: 'Flat',
    description: null,
    vectorizer: '',
    vectorIndexType: 'flat',
    vectorIndexConfig: { distance: 'l2-squared', bq: { enabled: true } },
    invertedIndexConfig: { bm25: { b: 0.5 }, stopwords: null },
    replicationConfig: { factor: 1, asyncEnabled: null },
  });
  t.is(reply.status, 200, JSON.stringify(reply.body));
  t.false('description' in reply.body);
  t.like(reply.body, {
    vectorizer: 'none',
    vectorIndexType: 'flat',
    vectorIndexConfig: { distance: 'l2-squared', vectorCacheMaxObjects: 1e12, bq: { enabled: true, rescoreLimit: -1 } },
    invertedIndexConfig: { bm25: { b: 0.5, k1: 1.2 }, stopwords: { preset: 'en' }, cleanupIntervalSeconds: 60 },
    replicationConfig: { factor: 1, asyncEnabled: false, deletionStrategy: 'TimeBasedResolution' },
  });
  const hnsw = await request('POST', '/v1/schema', { class: 'Hnsw', vectorIndexType: '' });
  t.like(hnsw.body, {
    vectorIndexType: 'hnsw',
    vectorIndexConfig: { distance: 'cosine', ef: -1, efConstruction: 128 },
  });
});

test('an object names its properties as Weaviate finds them: first letter lower-cased, null values left out', async (t) => {
  const { request } = await startNode(t);
  await request('POST', '/v1/schema', {
    class: 'C',
    properties: [
      { name: 'Title', dataType: ['text'] },
      { name: 'year', dataType: ['int'] },
    ],
  });
  const created = await request('POST', '/v1/objects', { class: 'C', properties: { Title: 'On backups', year: null } });
  t.is(created.status, 200, JSON.stringify(created.body));
  t.deepEqual(created.body.properties, { title: 'On backups' });
  const read = await request('GET', `/v1/objects/C/${created.body.id}`);
  t.deepEqual(read.body.properties, { title: 'On backups' });
  const unknown = await request('POST', '/v1/objects', { class: 'C', properties: { Pages: 3 } });
  t.is(unknown.status, 422);
  t.is(
    unknown.body.error[0].message,
    "no such prop with name 'pages' found in class 'C' in the schema. Check your schema files for which properties in this class are available",
    'named as Weaviate looks it up',
  );
});
