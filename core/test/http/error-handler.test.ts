import { Writable } from 'node:stream';
import test from 'ava';
import Fastify from 'fastify';
import { InvalidApiKeyError, StoreFailedError, StrataError } from '../../src/errors.js';
import { MESSAGE_LIMIT } from '../../src/http/error-body.js';
import { createErrorHandler } from '../../src/http/error-handler.js';
import { createLogger } from '../../src/node/index.js';

/** A server with the node's error handler and one route per kind of failure; its log lines, parsed. */
async function server() {
  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) logs.push(JSON.parse(line));
      done();
    },
  });
  const app = Fastify({ loggerInstance: createLogger('info', sink) });
  app.setErrorHandler(createErrorHandler({ bodyBytes: 1024, paramChars: 100 }));
  app.get('/bug', async () => {
    throw new Error("ENOENT: no such file or directory, open '/var/lib/strata/article/schema.tmp'");
  });
  app.get('/client', async () => {
    throw Object.assign(new Error('the client sent something odd'), { statusCode: 400 });
  });
  app.get('/long', async () => {
    throw new StrataError('STRATA_TEST_LONG', 422, `problem: ${'x'.repeat(100_000)}`);
  });
  app.get('/key', async () => {
    throw new InvalidApiKeyError();
  });
  app.get('/store', async () => {
    throw new StoreFailedError('/data/article/abc', 'fsync failed');
  });
  return { app, logs };
}

test('an unexpected error is logged with its stack and answered 500 without its message', async (t) => {
  const { app, logs } = await server();
  const reply = await app.inject('/bug');
  t.is(reply.statusCode, 500);
  t.deepEqual(reply.json(), {
    error: [{ message: "internal error while handling the request; the node's log has the details (request req-1)" }],
  });
  t.false(reply.body.includes('/var/lib'), 'no server path reaches the client');
  const logged = logs.find((line) => line.msg === 'unexpected error while handling a request');
  t.is(logged?.level, 50);
  t.is(logged?.reqId, 'req-1');
  t.regex(String((logged?.err as { stack?: string })?.stack), /\/var\/lib\/strata.*\n\s+at /);
});

test('a client error from Fastify or a library keeps its status and message', async (t) => {
  const { app } = await server();
  const reply = await app.inject('/client');
  t.deepEqual([reply.statusCode, reply.json()], [400, { error: [{ message: 'the client sent something odd' }] }]);
});

test('Strata errors keep their message, capped; HTTP-layer ones answer in go-swagger shape', async (t) => {
  const { app, logs } = await server();
  const long = await app.inject('/long');
  t.is(long.statusCode, 422);
  const message = long.json().error[0].message as string;
  t.is(message, `problem: ${'x'.repeat(MESSAGE_LIMIT - 9)}...(${100_009 - MESSAGE_LIMIT} more characters)`);
  t.deepEqual((await app.inject('/key')).json(), { code: 401, message: 'invalid api key' });
  const store = await app.inject('/store');
  t.is(store.statusCode, 503);
  t.regex(store.json().error[0].message, /^store \/data\/article\/abc stopped accepting writes/);
  t.true(logs.some((line) => line.level === 50 && String(line.msg).startsWith('store /data/article/abc')));
});
