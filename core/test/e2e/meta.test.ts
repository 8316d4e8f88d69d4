import { readFile } from 'node:fs/promises';
import test from 'ava';
import { coreDir } from '../helpers/app.js';
import { startNode } from '../helpers/node.js';

test('GET /v1/meta names the host, the Weaviate API version, the modules with their meta, and Strata', async (t) => {
  const { request, url } = await startNode(t);
  const { version } = JSON.parse(await readFile(`${coreDir}/package.json`, 'utf8')) as { version: string };
  const meta = await request('GET', '/v1/meta');
  t.is(meta.status, 200);
  t.deepEqual(meta.body, { hostname: url, version: '1.35.23', modules: {}, strata: { version } });
});

test('the OpenAPI document lists every route', async (t) => {
  const { request } = await startNode(t);
  const document = (await request('GET', '/v1/openapi.json')).body;
  t.is(document.openapi, '3.0.3');
  const routes = Object.entries(document.paths as Record<string, object>).flatMap(([path, methods]) =>
    Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
  );
  t.deepEqual(routes.sort(), [
    'DELETE /v1/backups/{backend}/{id}',
    'DELETE /v1/backups/{backend}/{id}/restore',
    'DELETE /v1/objects/{className}/{id}',
    'DELETE /v1/objects/{id}',
    'DELETE /v1/schema/{className}',
    'GET /v1/.well-known/live',
    'GET /v1/.well-known/ready',
    'GET /v1/backups/{backend}',
    'GET /v1/backups/{backend}/{id}',
    'GET /v1/backups/{backend}/{id}/restore',
    'GET /v1/meta',
    'GET /v1/nodes',
    'GET /v1/nodes/{className}',
    'GET /v1/objects',
    'GET /v1/objects/{className}/{id}',
    'GET /v1/objects/{id}',
    'GET /v1/schema',
    'GET /v1/schema/{className}',
    'HEAD /v1/objects/{className}/{id}',
    'HEAD /v1/objects/{id}',
    'PATCH /v1/objects/{className}/{id}',
    'PATCH /v1/objects/{id}',
    'POST /v1/backups/{backend}',
    'POST /v1/backups/{backend}/{id}/restore',
    'POST /v1/batch/objects',
    'POST /v1/graphql',
    'POST /v1/objects',
    'POST /v1/schema',
    'PUT /v1/objects/{className}/{id}',
    'PUT /v1/objects/{id}',
  ]);
});

test('each request is logged once, at info level, with method, URL, status and duration', async (t) => {
  const { request, logs } = await startNode(t);
  await request('GET', '/v1/schema');
  const lines = logs.filter((line) => line.msg === 'request');
  t.is(lines.length, 1);
  t.like(lines[0], { level: 30, method: 'GET', url: '/v1/schema', status: 200 });
  t.is(typeof lines[0]?.ms, 'number');
});
