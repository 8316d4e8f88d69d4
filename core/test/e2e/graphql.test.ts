import { monitorEventLoopDelay } from 'node:perf_hooks';
import test, { type ExecutionContext } from 'ava';
import type { FastifyRequest } from 'fastify';
import { GraphQLError } from 'graphql';
import weaviate from 'weaviate-ts-client';
import type { NodeStatus } from '../../src/db/index.js';
import { QueryLimitError } from '../../src/errors.js';
import { MAX_QUERY_CHARS, MAX_QUERY_DEPTH, MAX_QUERY_TOKENS } from '../../src/http/graphql/limits.js';
import type { QueryContext } from '../../src/http/graphql/query-context.js';
import { resolveAggregate } from '../../src/http/graphql/resolvers.js';
import { weaviateError } from '../../src/http/graphql/response.js';
import { startNode, type TestNode } from '../helpers/node.js';

// POST /v1/graphql: the subset of Weaviate's GraphQL that its docs and clients check a restore with,
// in Weaviate's shapes, through raw HTTP and through Weaviate's v2 TypeScript client.

const { client } = weaviate as unknown as typeof weaviate.default;

const SUBSET =
  'is not supported by Strata, which serves only Get { <Class>(limit, offset, after) ' +
  '{ <properties> _additional { id vector creationTimeUnix lastUpdateTimeUnix } } } and ' +
  'Aggregate { <Class> { meta { count } } }';

const ARTICLE = {
  class: 'Article',
  properties: [
    { name: 'title', dataType: ['text'] },
    { name: 'tags', dataType: ['text[]'] },
    { name: 'words', dataType: ['int'] },
    { name: 'counts', dataType: ['int[]'] },
    { name: 'score', dataType: ['number'] },
    { name: 'scores', dataType: ['number[]'] },
    { name: 'live', dataType: ['boolean'] },
    { name: 'flags', dataType: ['boolean[]'] },
    { name: 'published', dataType: ['date'] },
    { name: 'dates', dataType: ['date[]'] },
    { name: 'ref', dataType: ['uuid'] },
    { name: 'refs', dataType: ['uuid[]'] },
    { name: 'image', dataType: ['blob'] },
    { name: 'place', dataType: ['geoCoordinates'] },
    { name: 'phone', dataType: ['phoneNumber'] },
    {
      name: 'author',
      dataType: ['object'],
      nestedProperties: [
        { name: 'name', dataType: ['text'] },
        { name: 'address', dataType: ['object'], nestedProperties: [{ name: 'city', dataType: ['text'] }] },
      ],
    },
    { name: 'notes', dataType: ['object[]'], nestedProperties: [{ name: 'text', dataType: ['text'] }] },
  ],
};

/** The id of the n-th object: ids sort as n does. */
const idOf = (n: number) => `00000000-0000-4000-8000-${n.toString().padStart(12, '0')}`;

const FULL = {
  title: 'On backups',
  tags: ['lsm', 'backup'],
  words: 1200,
  counts: [1, 2],
  score: 0.5,
  scores: [0.25, 1.5],
  live: true,
  flags: [true, false],
  published: '2026-01-02T03:04:05Z',
  dates: ['2026-01-02T03:04:05Z'],
  ref: idOf(999),
  refs: [idOf(998)],
  image: 'aGVsbG8=',
  place: { latitude: 52.37, longitude: 4.89 },
  phone: { input: '+31 20 123 4567', countryCode: 31 },
  author: { name: 'Ada', address: { city: 'Amsterdam' } },
  notes: [{ text: 'first' }, { text: 'second' }],
};

/** Imports `count` Articles (ids idOf(0) ..), the first with every property, in batches. */
async function seed(node: TestNode, count: number): Promise<void> {
  for (let start = 0; start < count; start += 2000) {
    const objects = Array.from({ length: Math.min(2000, count - start) }, (_, i) => ({
      class: 'Article',
      id: idOf(start + i),
      properties: start + i === 0 ? FULL : { title: `article ${start + i}`, words: start + i },
      ...(start + i === 0 ? { vector: [0.5, 0.25] } : {}),
    }));
    const reply = await node.request('POST', '/v1/batch/objects', { objects });
    if (reply.status !== 200) throw new Error(JSON.stringify(reply.body));
  }
}

async function articleNode(t: ExecutionContext, count: number): Promise<TestNode> {
  const node = await startNode(t);
  t.is((await node.request('POST', '/v1/schema', ARTICLE)).status, 200);
  await seed(node, count);
  return node;
}

const graphql = (node: TestNode, query: string, extra: Record<string, unknown> = {}) =>
  node.request('POST', '/v1/graphql', { query, ...extra });

/** The one error of a 200 GraphQL answer without data. */
async function onlyError(t: ExecutionContext, node: TestNode, query: string) {
  const reply = await graphql(node, query);
  t.is(reply.status, 200, 'GraphQL errors answer 200, as in Weaviate');
  t.is(reply.body.errors?.length, 1, JSON.stringify(reply.body));
  return reply.body.errors[0];
}

test('Get answers every data type, nested objects and _additional in Weaviate shape', async (t) => {
  const node = await articleNode(t, 1);
  const fields = [
    'title tags words counts score scores live flags published dates ref refs image',
    'place { latitude longitude } phone { input countryCode valid }',
    'author { name address { city } } notes { text }',
    '_additional { id vector creationTimeUnix lastUpdateTimeUnix }',
  ].join(' ');
  const reply = await graphql(node, `{ Get { Article { ${fields} } } }`);
  t.is(reply.status, 200);
  const stored = (await node.request('GET', `/v1/objects/Article/${idOf(0)}`)).body;
  t.deepEqual(reply.body, {
    data: {
      Get: {
        Article: [
          {
            ...FULL,
            phone: { input: '+31 20 123 4567', countryCode: 31, valid: null },
            _additional: {
              id: idOf(0),
              vector: [0.5, 0.25],
              creationTimeUnix: String(stored.creationTimeUnix),
              lastUpdateTimeUnix: String(stored.lastUpdateTimeUnix),
            },
          },
        ],
      },
    },
  });
});

test('Get pages with limit, offset and after, in id order, with Weaviate default limits', async (t) => {
  const node = await articleNode(t, 130);
  const ids = async (args: string) => {
    const reply = await graphql(node, `{ Get { Article${args} { _additional { id } } } }`);
    t.is(reply.status, 200, JSON.stringify(reply.body));
    t.is(reply.body.errors, undefined, JSON.stringify(reply.body.errors));
    return reply.body.data.Get.Article.map((o: { _additional: { id: string } }) => o._additional.id);
  };
  const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => idOf(from + i));
  t.deepEqual(await ids('(limit: 3)'), range(0, 3));
  t.deepEqual(await ids('(limit: 3, offset: 10)'), range(10, 13));
  t.deepEqual(await ids(`(limit: 2, after: "${idOf(127)}")`), range(128, 130));
  t.deepEqual(await ids('(limit: 0)'), []);
  t.deepEqual(await ids(''), range(0, 100), 'QUERY_DEFAULTS_LIMIT_GRAPHQL: 100');
  t.deepEqual(await ids('(offset: 5)'), range(5, 15), 'with an offset and no limit, QUERY_DEFAULTS_LIMIT: 10');
  t.deepEqual(await ids('(limit: -1)'), range(0, 10), 'a negative limit is no limit, as in Weaviate');
  t.deepEqual(await ids(`(after: "${idOf(0)}")`), range(1, 101));
});

test('Aggregate answers meta { count }, per class and per alias', async (t) => {
  const node = await articleNode(t, 25);
  t.is((await node.request('POST', '/v1/schema', { class: 'Empty' })).status, 200);
  const reply = await graphql(
    node,
    '{ Aggregate { Article { meta { count } } again: Article { meta { count } } Empty { meta { count } } } }',
  );
  t.deepEqual(reply, {
    status: 200,
    body: {
      data: {
        Aggregate: {
          Article: [{ meta: { count: 25 } }],
          again: [{ meta: { count: 25 } }],
          Empty: [{ meta: { count: 0 } }],
        },
      },
    },
  });
});

test('Get and Aggregate in one query, with variables and an operation name', async (t) => {
  const node = await articleNode(t, 5);
  const query = `
    query Other { Aggregate { Article { meta { count } } } }
    query Page($limit: Int, $after: String) {
      Get { Article(limit: $limit, after: $after) { title } }
      Aggregate { Article { meta { count } } }
    }`;
  const reply = await graphql(node, query, { operationName: 'Page', variables: { limit: 2, after: idOf(2) } });
  t.deepEqual(reply.body, {
    data: {
      Get: { Article: [{ title: 'article 3' }, { title: 'article 4' }] },
      Aggregate: { Article: [{ meta: { count: 5 } }] },
    },
  });
  const unnamed = await graphql(node, query);
  t.is(unnamed.body.errors[0].message, 'Must provide operation name if query contains multiple operations.');
});

test("Weaviate's TypeScript client reads pages and counts through GraphQL", async (t) => {
  const node = await articleNode(t, 12);
  const weaviateClient = client({ scheme: 'http', host: node.url.replace('http://', '') });
  const page = await weaviateClient.graphql
    .get()
    .withClassName('Article')
    .withFields('title words _additional { id }')
    .withLimit(2)
    .withOffset(3)
    .do();
  t.deepEqual(page, {
    data: {
      Get: {
        Article: [
          { title: 'article 3', words: 3, _additional: { id: idOf(3) } },
          { title: 'article 4', words: 4, _additional: { id: idOf(4) } },
        ],
      },
    },
  });
  const after = await weaviateClient.graphql
    .get()
    .withClassName('Article')
    .withFields('_additional { id }')
    .withAfter(idOf(10))
    .withLimit(5)
    .do();
  t.deepEqual(after.data.Get.Article, [{ _additional: { id: idOf(11) } }]);
  const counted = await weaviateClient.graphql.aggregate().withClassName('Article').withFields('meta { count }').do();
  t.deepEqual(counted, { data: { Aggregate: { Article: [{ meta: { count: 12 } }] } } });
  // The client throws on an answer with errors, quoting the message.
  await t.throwsAsync(
    weaviateClient.graphql
      .get()
      .withClassName('Article')
      .withFields('title')
      .withNearVector({ vector: [0.5] })
      .do(),
    { message: /^the argument nearVector of Get \{ Article \} is not supported by Strata/ },
  );
});

test('the schema follows the classes: a new class is queryable, a deleted one is gone', async (t) => {
  const node = await startNode(t);
  t.is((await node.request('POST', '/v1/schema', { class: 'First' })).status, 200);
  t.deepEqual((await graphql(node, '{ Aggregate { First { meta { count } } } }')).body, {
    data: { Aggregate: { First: [{ meta: { count: 0 } }] } },
  });
  t.is(
    (await node.request('POST', '/v1/schema', { class: 'Second', properties: [{ name: 'x', dataType: ['int'] }] }))
      .status,
    200,
  );
  await node.request('POST', '/v1/objects', { class: 'Second', properties: { x: 7 } });
  t.deepEqual((await graphql(node, '{ Get { Second { x } } }')).body, { data: { Get: { Second: [{ x: 7 }] } } });
  await node.request('DELETE', '/v1/schema/First');
  t.deepEqual(await onlyError(t, node, '{ Aggregate { First { meta { count } } } }'), {
    locations: [{ column: 15, line: 1 }],
    message: 'Cannot query field "First" on type "AggregateObjectsObj".',
    path: null,
  });
});

test('classes named like GraphQL scalars or like the types of other classes get a schema', async (t) => {
  const node = await startNode(t);
  for (const name of ['String', 'Article', 'ArticleAdditional', 'AggregateArticle']) {
    t.is(
      (await node.request('POST', '/v1/schema', { class: name, properties: [{ name: 'n', dataType: ['int'] }] }))
        .status,
      200,
    );
    await node.request('POST', '/v1/objects', { class: name, properties: { n: name.length } });
  }
  const reply = await graphql(
    node,
    '{ Get { String { n } Article { n _additional { id } } ArticleAdditional { n } AggregateArticle { n } } }',
  );
  t.is(reply.body.errors, undefined, JSON.stringify(reply.body.errors));
  t.deepEqual(reply.body.data.Get.String, [{ n: 6 }]);
  t.deepEqual(reply.body.data.Get.AggregateArticle, [{ n: 16 }]);
  t.deepEqual((await graphql(node, '{ Aggregate { Article { meta { count } } } }')).body.data.Aggregate.Article, [
    { meta: { count: 1 } },
  ]);
});

test('a request Weaviate refuses before resolving gets its 422 and message', async (t) => {
  const node = await startNode(t);
  t.deepEqual(await graphql(node, '{ Get { A { b } } }'), {
    status: 422,
    body: {
      error: [
        {
          message:
            'no graphql provider present, this is most likely because no schema is present. Import a schema first!',
        },
      ],
    },
  });
  await node.request('POST', '/v1/schema', { class: 'Article' });
  const empty = { status: 422, body: { error: [{ message: 'query cannot be empty' }] } };
  t.deepEqual(await graphql(node, ''), empty);
  t.deepEqual(await node.request('POST', '/v1/graphql', {}), empty);
  for (const [variables, type] of [
    [[1], 'an array'],
    ['x', 'a string'],
    [3, 'a number'],
  ] as const) {
    t.deepEqual(await graphql(node, '{ Get { Article { _additional { id } } } }', { variables }), {
      status: 422,
      body: { error: [{ message: `variables must be a JSON object, got ${type}` }] },
    });
  }
  const nulls = { variables: null, operationName: null };
  t.is((await graphql(node, '{ Get { Article { _additional { id } } } }', nulls)).status, 200);
  t.like(await node.request('POST', '/v1/graphql', { query: 5 }), { status: 422, body: { code: 601 } });
  t.like(await node.request('POST', '/v1/graphql'), { status: 422, body: { code: 602 } });
});

test('what Weaviate serves beyond the subset is a GraphQL error naming it and the subset', async (t) => {
  const node = await articleNode(t, 1);
  const cases: ReadonlyArray<[string, string, number]> = [
    [
      '{ Get { Article(where: { path: ["words"], operator: Equal, valueInt: 1 }) { title } } }',
      'the argument where of Get { Article }',
      17,
    ],
    ['{ Get { Article(nearVector: { vector: [1, 2] }) { title } } }', 'the argument nearVector of Get { Article }', 17],
    ['{ Get { Article(groupBy: { path: ["title"] }) { title } } }', 'the argument groupBy of Get { Article }', 17],
    ['{ Get { Article(sort: { path: ["title"] }) { title } } }', 'the argument sort of Get { Article }', 17],
    ['{ Get { Article(bm25: { query: "x" }) { title } } }', 'the argument bm25 of Get { Article }', 17],
    [
      '{ Aggregate { Article(where: { path: ["words"] }) { meta { count } } } }',
      'the argument where of Aggregate { Article }',
      23,
    ],
    ['{ Aggregate { Article { words { sum } } } }', 'words in Aggregate { <Class> }', 25],
    ['{ Aggregate { Article { groupedBy { value } } } }', 'groupedBy in Aggregate { <Class> }', 25],
    ['{ Aggregate { Article { meta { sum } } } }', 'sum in meta', 32],
    ['{ Get { Article { _additional { distance } } } }', 'distance in _additional', 33],
    ['{ Explore(nearVector: { vector: [1] }) { beacon } }', 'Explore', 3],
  ];
  for (const [query, what, column] of cases) {
    t.deepEqual(
      await onlyError(t, node, query),
      { locations: [{ column, line: 1 }], message: `${what} ${SUBSET}`, path: null },
      query,
    );
  }
});

test('mistakes in a query are GraphQL errors, as graphql-js words them, with locations', async (t) => {
  const node = await articleNode(t, 1);
  t.deepEqual(await onlyError(t, node, '{ Get { Article { nope } } }'), {
    // graphql-js suggests a field of a similar name; Weaviate's graphql-go does not.
    locations: [{ column: 19, line: 1 }],
    message: 'Cannot query field "nope" on type "Article". Did you mean "notes"?',
    path: null,
  });
  t.deepEqual(await onlyError(t, node, '{ Get { Article('), {
    locations: [{ column: 17, line: 1 }],
    message: 'Syntax Error: Expected Name, found <EOF>.',
    path: null,
  });
  t.is(
    (await onlyError(t, node, 'mutation { Get { Article { title } } }')).message,
    'Schema is not configured to execute mutation operation.',
  );
  t.is(
    (await onlyError(t, node, '{ Get { Article(limit: "3") { title } } }')).message,
    'Int cannot represent non-integer value: "3"',
  );
  t.deepEqual(await onlyError(t, node, '{ Get { Article { title words title } } }'), {
    locations: [{ column: 31, line: 1 }],
    message:
      'the field "title" is selected twice in one selection set; select it once, or give each an alias of its own',
    path: null,
  });
  t.is((await graphql(node, '{ Get { Article { title t: title } } }')).body.errors, undefined, 'aliases are distinct');
});

test('bad Get arguments and pages past QUERY_MAXIMUM_RESULTS are errors of their field', async (t) => {
  const node = await articleNode(t, 3);
  const fieldError = async (args: string) => {
    const reply = await graphql(node, `{ Get { Article${args} { title } } }`);
    t.is(reply.status, 200);
    t.deepEqual(reply.body.data, { Get: { Article: null } });
    t.like(reply.body.errors[0], { locations: [{ column: 9, line: 1 }], path: ['Get', 'Article'] });
    return reply.body.errors[0].message;
  };
  t.is(await fieldError('(offset: -1)'), `invalid 'offset' -1: expected 0 or more`);
  t.is(
    await fieldError('(after: "not-an-id")'),
    `invalid 'after' "not-an-id": expected the id of an object, as _additional { id } answers`,
  );
  t.is(
    await fieldError(`(after: "${idOf(0)}", offset: 1)`),
    `invalid 'offset' 1: 'offset' cannot be combined with 'after': page with after and limit`,
  );
  t.is(
    await fieldError('(offset: 9990, limit: 11)'),
    'query maximum results exceeded: offset + limit must not exceed 10000',
  );
  t.is((await graphql(node, '{ Get { Article(offset: 9990, limit: 10) { title } } }')).body.errors, undefined);

  const both = await graphql(node, '{ Get { Article(limit: 6000) { title } again: Article(limit: 6000) { title } } }');
  t.deepEqual(both.body.data.Get.Article.length, 3);
  t.deepEqual(both.body.data.Get.again, null);
  t.deepEqual(both.body.errors, [
    {
      locations: [{ column: 40, line: 1 }],
      message:
        'the Get fields of this query ask for 12000 objects in all (offset + limit of each), more than the ' +
        '10000 one query may answer: ask for the classes in separate queries',
      path: ['Get', 'again'],
    },
  ]);
});

test('an int beyond GraphQL Int is an error of its field, the rest answered', async (t) => {
  const node = await startNode(t);
  await node.request('POST', '/v1/schema', { class: 'Big', properties: [{ name: 'n', dataType: ['int'] }] });
  await node.request('POST', '/v1/objects', { class: 'Big', properties: { n: 3_000_000_000 } });
  const reply = await graphql(node, '{ Get { Big { n _additional { id } } } }');
  t.is(reply.body.data.Get.Big[0].n, null);
  t.is(reply.body.errors[0].message, 'Int cannot represent non 32-bit signed integer value: 3000000000');
  t.deepEqual(reply.body.errors[0].path, ['Get', 'Big', 0, 'n']);
});

test('hostile queries are refused before they are parsed, quickly', async (t) => {
  const node = await articleNode(t, 1);
  const refused = async (query: string, message: string) => {
    const started = performance.now();
    const error = await onlyError(t, node, query);
    t.is(error.message, message);
    t.true(performance.now() - started < 2000, 'refused in well under a request of work');
    return error;
  };
  await refused(
    `{ Get { Article { ${'title '.repeat(200_000)} } } }`,
    `the query has more than ${MAX_QUERY_CHARS} characters, the most Strata accepts in one query; send a smaller query`,
  );
  const tokens = await refused(
    `{ Get { Article { ${Array.from({ length: MAX_QUERY_TOKENS }, (_, i) => `a${i}: title`).join(' ')} } } }`,
    `the query has more than ${MAX_QUERY_TOKENS} tokens, the most Strata accepts in one query; send a smaller query`,
  );
  t.is(tokens.locations.length, 1);
  t.deepEqual(
    await refused(
      `${'{ a '.repeat(MAX_QUERY_DEPTH + 1)}${'}'.repeat(MAX_QUERY_DEPTH + 1)}`,
      `the query has more than ${MAX_QUERY_DEPTH} levels of nesting, the most Strata accepts in one query; send a smaller query`,
    ),
    {
      locations: [{ column: MAX_QUERY_DEPTH * 4 + 1, line: 1 }],
      message: `the query has more than ${MAX_QUERY_DEPTH} levels of nesting, the most Strata accepts in one query; send a smaller query`,
      path: null,
    },
  );
  // Fields of one name, the input that makes graphql-js's overlap check quadratic.
  await refused(
    `{ Get { Article { ${Array.from({ length: 1500 }, (_, i) => `x: ${i % 2 === 0 ? 'title' : 'words'}`).join(' ')} } } }`,
    'the field "x" is selected twice in one selection set; select it once, or give each an alias of its own',
  );
  t.is((await node.request('GET', '/v1/.well-known/live')).status, 200);
});

// Alone (serial tests run first), so the delay measured is this request's.
test.serial('a Get of 10,000 objects answers them all without holding the event loop long', async (t) => {
  const node = await articleNode(t, 10_000);
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  const started = performance.now();
  const reply = await graphql(node, '{ Get { Article(limit: 10000) { title words _additional { id } } } }');
  const took = performance.now() - started;
  delay.disable();
  t.is(reply.status, 200);
  t.is(reply.body.data.Get.Article.length, 10_000);
  t.deepEqual(reply.body.data.Get.Article[9999], {
    title: 'article 9999',
    words: 9999,
    _additional: { id: idOf(9999) },
  });
  const longest = delay.max / 1e6;
  t.log(`answered in ${took.toFixed(0)} ms; the event loop waited at most ${longest.toFixed(0)} ms`);
  t.true(longest < 100, `the event loop waited ${longest.toFixed(0)} ms at most`);
});

test('a count is refused, not short, while a node holding shards of the class does not answer', async (t) => {
  const definition = { class: 'Article', shardingConfig: { desiredCount: 3 } };
  const statuses: NodeStatus[] = [
    { name: 'node1', status: 'HEALTHY', shards: [{ class: 'Article', name: 's1', node: 'node1', objectCount: 4 }] },
    { name: 'node2', status: 'HEALTHY', shards: [{ class: 'Article', name: 's2', node: 'node2', objectCount: 5 }] },
    { name: 'node3', status: 'UNHEALTHY', shards: [] },
  ];
  const context = (answering: NodeStatus[]) =>
    ({
      db: { getClass: () => definition },
      nodes: async () => answering,
      asked: 0,
      counts: new Map(),
    }) as unknown as QueryContext;
  const [group] = resolveAggregate('Article', context(statuses));
  await t.throwsAsync(group?.meta.count() as Promise<number>, {
    message:
      'cannot count the objects of class Article: only 2 of its 3 shards answered (GET /v1/nodes shows which ' +
      'node is not HEALTHY); try again once every node is',
  });
  const healthy: NodeStatus = {
    name: 'node3',
    status: 'HEALTHY',
    shards: [{ class: 'Article', name: 's3', node: 'node3', objectCount: 6 }],
  };
  const [all] = resolveAggregate('Article', context([...statuses.slice(0, 2), healthy]));
  t.is(await all?.meta.count(), 15);
});

test('an error a resolver did not raise on purpose is logged and answered without its message', (t) => {
  const logged: unknown[] = [];
  const request = {
    id: 'req-7',
    log: { error: (fields: unknown) => logged.push(fields) },
  } as unknown as FastifyRequest;
  const bug = new TypeError('cannot read x of undefined at /srv/strata/internal.js');
  t.deepEqual(weaviateError(new GraphQLError(bug.message, { originalError: bug, path: ['Get', 'A'] }), request), {
    locations: null,
    message: "internal error while resolving the query; the node's log has the details (request req-7)",
    path: ['Get', 'A'],
  });
  t.deepEqual(logged, [{ err: bug }]);
  const known = new QueryLimitError(10_000);
  t.is(weaviateError(new GraphQLError(known.message, { originalError: known }), request).message, known.message);
  t.is(logged.length, 1, "Strata's own errors are answered as they are, not logged");
});
