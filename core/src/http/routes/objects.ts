import type { FastifyPluginAsync } from 'fastify';
import { OBJECT_LIMITS, type ObjectInput } from '../../db/index.js';
import type { HttpContext } from '../context.js';
import { sendJsonArray } from '../json-reply.js';
import { objectResponse, wantsVector } from '../object-response.js';
import { includeQuery, listQuery, objectBody, objectPath } from '../schemas/objects.js';

type ObjectRoute = { Params: { className: string; id: string }; Querystring: { include?: string } };

/** Objects: POST/GET /v1/objects and GET/HEAD/PUT/PATCH/DELETE /v1/objects/{className}/{id}. */
export const objectRoutes: FastifyPluginAsync<HttpContext> = async (app, { db }) => {
  app.post<{ Body: ObjectInput }>(
    '/objects',
    { schema: { tags: ['objects'], summary: 'Create an object', body: objectBody }, bodyLimit: OBJECT_LIMITS.bytes },
    async (request) => objectResponse(await db.createObject(request.body), true),
  );

  app.get<{ Querystring: { class?: string; limit: number; offset: number; after?: string; include?: string } }>(
    '/objects',
    { schema: { tags: ['objects'], summary: 'List objects, in id order', querystring: listQuery } },
    async (request, reply) => {
      const { class: className, limit, offset, after, include } = request.query;
      if (after !== undefined && className === undefined) {
        return reply.status(422).send({ error: [{ message: "'after' can only be used together with 'class'" }] });
      }
      if (after !== undefined && offset > 0) {
        return reply.status(422).send({ error: [{ message: "'after' cannot be combined with 'offset'" }] });
      }
      const objects = await db.listObjects({
        ...(className === undefined ? {} : { className }),
        ...(after === undefined ? {} : { after }),
        offset,
        limit,
      });
      const withVector = wantsVector(include);
      return sendJsonArray(reply, objects, (object) => objectResponse(object, withVector), {
        before: '{"objects":',
        after: `,"totalResults":${objects.length}}`,
      });
    },
  );

  app.get<ObjectRoute>(
    '/objects/:className/:id',
    { schema: { tags: ['objects'], summary: 'Get an object', params: objectPath, querystring: includeQuery } },
    async (request, reply) => {
      const object = await db.getObject(request.params.className, request.params.id);
      return object === undefined
        ? reply.status(404).send()
        : objectResponse(object, wantsVector(request.query.include));
    },
  );

  app.head<ObjectRoute>(
    '/objects/:className/:id',
    { schema: { tags: ['objects'], summary: 'Check that an object exists', params: objectPath } },
    async (request, reply) => {
      const object = await db.getObject(request.params.className, request.params.id);
      return reply.status(object === undefined ? 404 : 204).send();
    },
  );

  app.put<ObjectRoute & { Body: ObjectInput }>(
    '/objects/:className/:id',
    {
      schema: { tags: ['objects'], summary: 'Replace an object', params: objectPath, body: objectBody },
      bodyLimit: OBJECT_LIMITS.bytes,
    },
    async (request, reply) => {
      if ((await db.getObject(request.params.className, request.params.id)) === undefined)
        return reply.status(404).send();
      return objectResponse(
        await db.updateObject(request.params.className, request.params.id, request.body, 'replace'),
        true,
      );
    },
  );

  app.patch<ObjectRoute & { Body: ObjectInput }>(
    '/objects/:className/:id',
    {
      schema: { tags: ['objects'], summary: 'Merge properties into an object', params: objectPath, body: objectBody },
      bodyLimit: OBJECT_LIMITS.bytes,
    },
    async (request, reply) => {
      if ((await db.getObject(request.params.className, request.params.id)) === undefined)
        return reply.status(404).send();
      await db.updateObject(request.params.className, request.params.id, request.body, 'merge');
      return reply.status(204).send();
    },
  );

  app.delete<ObjectRoute>(
    '/objects/:className/:id',
    { schema: { tags: ['objects'], summary: 'Delete an object', params: objectPath } },
    async (request, reply) =>
      reply.status((await db.deleteObject(request.params.className, request.params.id)) ? 204 : 404).send(),
  );
};
