import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import test from 'ava';
import { MAX_SELECTION_ENTRIES } from '../../src/backup/class-selection.js';
import { OBJECT_LIMITS } from '../../src/db/index.js';
import { MAX_PAGE_BYTES } from '../../src/db/object-pages.js';
import { BODY_LIMIT_BYTES, PARAM_LIMIT_CHARS } from '../../src/http/server.js';
import { JSON_PIECE_BYTES, MAX_JSON_DEPTH } from '../../src/sliced-json.js';
import { seed, startBackupNode } from '../helpers/backups.js';
import { startNode } from '../helpers/node.js';

/** The request limits of docs/api.md, each tried at the limit and just over it. */

const thing = { class: 'Thing', properties: [{ name: 'name', dataType: ['text'] }] };

/** `levels` nested objects: `{"a":{"a":{}}}` is 3. */
const nest = (levels: number): unknown => (levels === 1 ? {} : { a: nest(levels - 1) });

test(`bodies nest at most ${MAX_JSON_DEPTH} levels, small or large`, async (t) => {
  const { request } = await startNode(t);
  // The body is level 1, moduleConfig level 2: the class is as deep as the limit allows.
  const deepest = { class: 'Deep', moduleConfig: nest(MAX_JSON_DEPTH - 1) };
  const created = await request('POST', '/v1/schema', deepest);
  t.is(created.status, 200);
  t.deepEqual(created.body.moduleConfig, deepest.moduleConfig, 'kept and returned as given');
  const tooDeep = JSON.stringify({ class: 'Deeper', moduleConfig: nest(MAX_JSON_DEPTH) });
  const refused = await request('POST', '/v1/schema', tooDeep);
  t.is(refused.status, 400);
  t.deepEqual(refused.body, {
    code: 400,
    message: `parsing body body from "" failed, because arrays and objects are nested deeper than 64 levels (at byte ${tooDeep.lastIndexOf('{')}); Strata accepts at most 64 levels, flatten the document`,
  });
  const large = JSON.stringify({
    class: 'Large',
    description: 'x'.repeat(JSON_PIECE_BYTES),
    moduleConfig: nest(MAX_JSON_DEPTH),
  });
  t.regex((await request('POST', '/v1/schema', large)).body.message, /nested deeper than 64 levels \(at byte \d+\)/);
  t.is((await request('GET', '/v1/.well-known/live')).status, 200);
});

test('a large body that is not JSON, or sets __proto__, is refused like a small one', async (t) => {
  const { request } = await startNode(t);
  await request('POST', '/v1/schema', thing);
  const objects = Array.from({ length: 20_000 }, (_, i) => ({ class: 'Thing', properties: { name: `thing ${i}` } }));
  const text = JSON.stringify({ objects });
  t.true(text.length > JSON_PIECE_BYTES);
  const truncated = await request('POST', '/v1/batch/objects', text.slice(0, -1));
  t.deepEqual(truncated.body, {
    code: 400,
    message: 'parsing body body from "" failed, because Unexpected end of JSON input',
  });
  const broken = await request('POST', '/v1/batch/objects', `${text.slice(0, -2)},]}`);
  t.deepEqual(broken.body, {
    code: 400,
    message: `parsing body body from "" failed, because Unexpected token ']' in JSON at byte ${text.length - 1}`,
  });
  const polluting = `${text.slice(0, -2)},{"class":"Thing","__proto__":{"admin":true}}]}`;
  t.deepEqual(await request('POST', '/v1/batch/objects', polluting), {
    status: 400,
    body: {
      code: 400,
      message: 'parsing body body from "" failed, because Object contains forbidden prototype property',
    },
  });
});

test('each object of a batch is validated as the route validated all of them, naming the object', async (t) => {
  const { request } = await startNode(t);
  await request('POST', '/v1/schema', thing);
  const ok = { class: 'Thing', properties: { name: 'fine' } };
  const cases: Array<[unknown, unknown]> = [
    [
      { objects: [ok, { class: 'Thing', vector: ['a'] }] },
      { code: 601, message: 'objects.1.vector.0 in body must be of type number: "a"' },
    ],
    [{ objects: [ok, ok, { class: 7 }] }, { code: 601, message: 'objects.2.class in body must be of type string' }],
    [{ objects: [null] }, { code: 601, message: 'objects.0 in body must be of type object' }],
    [
      { objects: [{ class: 'Thing', id: 'not-a-uuid' }] },
      { code: 601, message: 'objects.0.id in body must be of type uuid: "not-a-uuid"' },
    ],
    [
      { objects: [ok], fields: ['ALL', 3] },
      { code: 601, message: 'fields.1 in body must be of type string' },
    ],
    [{ objects: {} }, { code: 601, message: 'objects in body must be of type array' }],
  ];
  for (const [body, reply] of cases) {
    const answer = await request('POST', '/v1/batch/objects', body);
    t.deepEqual([answer.status, answer.body], [422, reply], JSON.stringify(body));
  }
  t.is((await request('GET', '/v1/objects?class=Thing')).body.totalResults, 0, 'a refused batch writes nothing');
});

// Serial: the file's other tests would hold this event loop (the probing client's) themselves.
test.serial('the node answers its liveness probe while it imports a large batch', async (t) => {
  const { request, url } = await startNode(t);
  await request('POST', '/v1/schema', thing);
  const objects = Array.from({ length: 100_000 }, (_, i) => ({ class: 'Thing', properties: { name: `thing ${i}` } }));
  let importing = true;
  let answered = 0;
  const probing = (async () => {
    while (importing) {
      await (await fetch(`${url}/v1/.well-known/live`)).arrayBuffer();
      if (importing) answered++;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  const reply = await request('POST', '/v1/batch/objects', { objects });
  importing = false;
  await probing;
  t.is(reply.status, 200);
  t.is(reply.body.length, objects.length);
  t.true(
    reply.body.every(
      (r: { result: { status: string }; properties: { name: string } }, i: number) =>
        r.result.status === 'SUCCESS' && r.properties.name === `thing ${i}`,
    ),
  );
  // Before, parsing, validating, writing and serialising held the event loop for seconds at a time,
  // so no probe was answered until the batch was. How fast they are answered is bench:liveness's.
  t.true(answered >= 5, `${answered} probes answered during the import`);
});

/** Sends a body with chunked transfer encoding (no content-length); resolves with the status. */
function sendChunked(url: string, chunks: number, chunk: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}/v1/batch/objects`, { method: 'POST' }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    const write = (i: number): void => {
      if (i === chunks) {
        req.end();
        return;
      }
      if (req.write(chunk)) setImmediate(() => write(i + 1));
      else req.once('drain', () => write(i + 1));
    };
    write(0);
  });
}

test('a body without content-length is read as it grows, and refused with 413 past the limit', async (t) => {
  const { request, url } = await startNode(t);
  await request('POST', '/v1/schema', thing);
  const objects = Array.from({ length: 5000 }, (_, i) => ({ class: 'Thing', properties: { name: `thing ${i}` } }));
  const body = Buffer.from(JSON.stringify({ objects }));
  const third = Math.ceil(body.length / 3);
  const status = await new Promise<number>((resolve, reject) => {
    const req = httpRequest(`${url}/v1/batch/objects`, { method: 'POST' }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    for (let at = 0; at < body.length; at += third) req.write(body.subarray(at, at + third));
    req.end();
  });
  t.is(status, 200);
  t.is((await request('GET', '/v1/objects?class=Thing&limit=10000')).body.totalResults, 5000);
  const mebibyte = Buffer.alloc(1024 * 1024, 0x20);
  t.is(await sendChunked(url, BODY_LIMIT_BYTES / mebibyte.length + 1, mebibyte), 413);
  t.is((await request('GET', '/v1/.well-known/live')).status, 200);
});

test('a client that hangs up mid-body is a client error, not logged as a bug; the node goes on', async (t) => {
  const { request, url, logs } = await startNode(t);
  const { port } = new URL(url);
  await new Promise<void>((resolve) => {
    const socket = connect(Number(port), '127.0.0.1', () => {
      socket.write('POST /v1/batch/objects HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n\r\n{"objects":[');
      setTimeout(() => socket.destroy(), 100);
    });
    socket.on('close', () => resolve());
  });
  await new Promise((resolve) => setTimeout(resolve, 200));
  t.false(
    logs.some((line) => line.msg === 'unexpected error while handling a request'),
    'not taken for a bug',
  );
  t.is((await request('GET', '/v1/.well-known/live')).status, 200);
});

test('error bodies quote a bounded excerpt of what the request sent', async (t) => {
  const node = await startBackupNode(t);
  await seed(node, 'Article', 1);
  const entry = `Article${'x'.repeat(3_000_000)}`;
  const include = await node.request('POST', '/v1/backups/filesystem', { id: 'quoted', include: [entry] });
  t.is(include.status, 422);
  t.deepEqual(include.body, {
    error: [{ message: `class ${entry.slice(0, 256)}...(2999751 more characters) doesn't exist` }],
  });
  // A string longer than any value may be is refused as the body is read, without quoting it.
  const huge = await node.request('POST', '/v1/backups/filesystem', { id: 'x'.repeat(50_000_000) });
  t.deepEqual(
    [huge.status, huge.body],
    [
      413,
      {
        code: 413,
        message:
          'the body holds a string larger than 4194304 bytes (starting at byte 6), more than one value may hold; send smaller objects',
      },
    ],
  );
  const backend = 'b'.repeat(PARAM_LIMIT_CHARS);
  const notEnabled = await node.request('GET', `/v1/backups/${backend}`);
  const quoted = `${'b'.repeat(256)}...(${PARAM_LIMIT_CHARS - 256} more characters)`;
  t.deepEqual(notEnabled.body, {
    error: [
      { message: `no backup backend "${quoted}": backup: ${quoted} not found, did you enable the right module?` },
    ],
  });
  const className = `Nope${'x'.repeat(1_000_000)}`;
  const unknown = await node.request('POST', '/v1/objects', { class: className });
  t.is(
    unknown.body.error[0].message,
    `class "${className.slice(0, 256)}...(999748 more characters)" not found in schema`,
  );
  const value = 'v'.repeat(1_000_000);
  const batch = await node.request('POST', '/v1/batch/objects', {
    objects: [{ class: 'Article', properties: { rank: value } }],
  });
  t.regex(
    batch.body[0].result.errors.error[0].message,
    /^invalid int property 'rank' on class 'Article': requires an integer, the given value is 'v{256}\.\.\.\(999744 more characters\)'$/,
  );
  const path = `/v1/${'p'.repeat(10_000)}`;
  const missing = await node.request('GET', path);
  t.deepEqual(missing.body, {
    code: 404,
    message: `path ${path.slice(0, 256)}...(9748 more characters) was not found`,
  });
});

test(`path parameters are read up to ${PARAM_LIMIT_CHARS} characters; the router's errors are Weaviate-shaped`, async (t) => {
  const { request } = await startNode(t);
  // Weaviate's class names have up to 255 characters; Fastify's default limit of 100 answered 414.
  const className = `A${'b'.repeat(254)}`;
  t.is((await request('POST', '/v1/schema', { class: className })).status, 200);
  t.is((await request('GET', `/v1/schema/${className}`)).body.class, className);
  t.is((await request('GET', `/v1/schema/A${'b'.repeat(PARAM_LIMIT_CHARS - 1)}`)).status, 404, 'at the limit');
  const over = `/v1/schema/A${'b'.repeat(PARAM_LIMIT_CHARS)}`;
  t.deepEqual(await request('GET', over), {
    status: 414,
    body: {
      code: 414,
      message: `path ${over.slice(0, 256)}...(${over.length - 256} more characters) has a parameter longer than ${PARAM_LIMIT_CHARS} characters, the limit`,
    },
  });
  t.deepEqual(await request('GET', '/v1/schema/%E0%A4%A'), {
    status: 400,
    body: { code: 400, message: 'path /v1/schema/%E0%A4%A is not a valid URL: a %-escape in it does not decode' },
  });
});

test('include and exclude over HTTP: bounded lists, malformed patterns refused with 422', async (t) => {
  const node = await startBackupNode(t);
  await seed(node, 'Article', 1);
  const create = (body: object) => node.request('POST', '/v1/backups/filesystem', { id: 'limits', ...body });
  const reversed = await create({ include: ['[z-a]*'] });
  t.deepEqual(reversed, {
    status: 422,
    body: { error: [{ message: "invalid class pattern '[z-a]*': range 'z-a' is reversed: write 'a-z'" }] },
  });
  const names = Array.from({ length: MAX_SELECTION_ENTRIES + 1 }, (_, i) => `Class${i}`);
  t.deepEqual(await create({ exclude: names }), {
    status: 422,
    body: { code: 611, message: `exclude in body should have at most ${MAX_SELECTION_ENTRIES} items` },
  });
  const atLimit = await create({ exclude: names.slice(1) });
  t.deepEqual([atLimit.status, atLimit.body.status, atLimit.body.classes], [200, 'STARTED', ['Article']]);
  const restore = await node.request('POST', '/v1/backups/filesystem/limits/restore', { include: names });
  t.deepEqual(restore.body, {
    code: 611,
    message: `include in body should have at most ${MAX_SELECTION_ENTRIES} items`,
  });
});

test('a batch of more than 100,000 objects is refused before any is read, naming the limit', async (t) => {
  const { request } = await startNode(t);
  await request('POST', '/v1/schema', thing);
  const objects = Array.from({ length: 100_001 }, () => ({ class: 'Thing', properties: { name: 'x' } }));
  const reply = await request('POST', '/v1/batch/objects', { objects });
  t.deepEqual(
    [reply.status, reply.body],
    [422, { code: 611, message: 'objects in body should have at most 100000 items' }],
  );
  t.is((await request('GET', '/v1/objects?class=Thing')).body.totalResults, 0);
});

test('what one object may hold: each limit at and just over it', async (t) => {
  const { request } = await startNode(t);
  const holder = {
    class: 'Holder',
    properties: [
      { name: 'tags', dataType: ['text[]'] },
      { name: 'body', dataType: ['text'] },
    ],
  };
  t.is((await request('POST', '/v1/schema', holder)).status, 200);
  const post = (object: Record<string, unknown>) => request('POST', '/v1/objects', { class: 'Holder', ...object });
  const vector = (n: number) => Array.from({ length: n }, () => 0.25);

  t.is((await post({ vector: vector(OBJECT_LIMITS.dimensions) })).status, 200);
  t.deepEqual((await post({ vector: vector(OBJECT_LIMITS.dimensions + 1) })).body, {
    code: 611,
    message: `vector in body should have at most ${OBJECT_LIMITS.dimensions} items`,
  });
  const named = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`v${i}`, [1, 2]]));
  t.is((await post({ vectors: named(OBJECT_LIMITS.namedVectors) })).status, 200);
  t.deepEqual((await post({ vectors: named(OBJECT_LIMITS.namedVectors + 1) })).body, {
    code: 615,
    message: `vectors in body should have at most ${OBJECT_LIMITS.namedVectors} properties`,
  });
  const tags = (n: number) => Array.from({ length: n }, () => 't');
  t.is((await post({ properties: { tags: tags(OBJECT_LIMITS.arrayItems) } })).status, 200);
  const tooMany = await post({ properties: { tags: tags(OBJECT_LIMITS.arrayItems + 1) } });
  t.is(tooMany.status, 422);
  t.is(
    tooMany.body.error[0].message,
    `invalid text array property 'tags' on class 'Holder': it has ${OBJECT_LIMITS.arrayItems + 1} items, more than the limit of ${OBJECT_LIMITS.arrayItems}`,
  );

  const body = (bytes: number) => 'b'.repeat(bytes);
  t.is((await post({ properties: { body: body(OBJECT_LIMITS.bytes - 200) } })).status, 200);
  t.deepEqual((await post({ properties: { body: body(OBJECT_LIMITS.bytes) } })).body, {
    code: 413,
    message: `request body is larger than the limit of ${OBJECT_LIMITS.bytes} bytes, the most one object may be`,
  });
  // In a batch, an object larger than one object may be is refused as the body is read.
  const batch = await request('POST', '/v1/batch/objects', {
    objects: [{ class: 'Holder', properties: { tags: [body(2_500_000), body(2_500_000)] } }],
  });
  t.deepEqual([batch.status, batch.body.code], [413, 413]);
  t.regex(batch.body.message, /^the body holds an object larger than 4194304 bytes \(starting at byte 12\)/);
  // A merge that would make an object larger than that is refused, and the object kept as it was.
  const grown = await post({ properties: { body: body(3_000_000) } });
  const id = grown.body.id as string;
  const patched = await request('PATCH', `/v1/objects/Holder/${id}`, { properties: { tags: [body(3_000_000)] } });
  t.is(patched.status, 422);
  t.regex(patched.body.error[0].message, /^the object is \d+ bytes as JSON, more than the limit of 4194304 bytes$/);
  t.is((await request('GET', `/v1/objects/Holder/${id}`)).body.properties.tags, undefined);
  t.is((await request('GET', '/v1/objects?class=Holder&limit=100')).body.totalResults, 5);
});

test('what a request may hold: members of an object, properties of a class, entries of node_mapping', async (t) => {
  const node = await startBackupNode(t);
  const members = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 1]));
  const tooManyMembers = await node.request('POST', '/v1/schema', { class: 'Many', extra: members(10_001) });
  t.deepEqual(tooManyMembers.body, {
    code: 413,
    message:
      'the body holds an object of more than 10000 members (starting at byte 24), more than one value may hold; send smaller objects',
  });
  const property = (i: number) => ({ name: `p${i}`, dataType: ['text'] });
  const wide = (n: number) => Array.from({ length: n }, (_, i) => property(i));
  t.is((await node.request('POST', '/v1/schema', { class: 'Wide', properties: wide(1000) })).status, 200);
  t.deepEqual((await node.request('POST', '/v1/schema', { class: 'Wider', properties: wide(1001) })).body, {
    code: 611,
    message: 'properties in body should have at most 1000 items',
  });
  const nested = {
    name: 'deep',
    dataType: ['object'],
    nestedProperties: Array.from({ length: 600 }, (_, i) => ({ name: `n${i}`, dataType: ['text'] })),
  };
  const counted = await node.request('POST', '/v1/schema', { class: 'Nested', properties: [...wide(400), nested] });
  t.is(counted.status, 422);
  t.is(
    counted.body.error[0].message,
    "class 'Nested' declares more than 1000 properties (nested ones included), the limit",
  );
  const mapping = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`n${i}`, 'node1']));
  const restore = (n: number) =>
    node.request('POST', '/v1/backups/filesystem/none/restore', { node_mapping: mapping(n) });
  t.is((await restore(1000)).status, 404, 'within the limit: on to the backup, which does not exist');
  t.deepEqual((await restore(1001)).body, {
    code: 615,
    message: 'node_mapping in body should have at most 1000 properties',
  });
});

test('a page of GET /v1/objects holds at most 64 MiB of objects; a smaller limit gets them', async (t) => {
  const { request } = await startNode(t);
  await request('POST', '/v1/schema', { class: 'Big', properties: [{ name: 'body', dataType: ['text'] }] });
  const body = 'b'.repeat(OBJECT_LIMITS.bytes - 200);
  const count = Math.ceil(MAX_PAGE_BYTES / body.length) + 1;
  for (let i = 0; i < count; i++) {
    t.is((await request('POST', '/v1/objects', { class: 'Big', properties: { body } })).status, 200);
  }
  const all = await request('GET', `/v1/objects?class=Big&limit=${count}`);
  t.deepEqual(
    [all.status, all.body],
    [
      422,
      {
        error: [
          {
            message: `the objects of this page take more than ${MAX_PAGE_BYTES} bytes, the most one answer may hold: ask for fewer with limit`,
          },
        ],
      },
    ],
  );
  const first = await request('GET', '/v1/objects?class=Big&limit=8');
  t.is(first.body.objects.length, 8);
  const rest = await request('GET', `/v1/objects?class=Big&limit=${count}&after=${first.body.objects[7].id}`);
  t.is(rest.status, 200);
  t.is(rest.body.totalResults, count - 8);
  t.is(new Set([...first.body.objects, ...rest.body.objects].map((o: { id: string }) => o.id)).size, count);
});
