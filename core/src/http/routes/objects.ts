import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { type DataApi, OBJECT_LIMITS, type ObjectInput, type StoredObject } from '../../db/index.js';
import { DeprecatedPathClassMissingError } from '../../errors.js';
import type { HttpContext } from '../context.js';
import { sendJsonArray } from '../json-reply.js';
import { objectResponse, wantsVector } from '../object-response.js';
import { includeQuery, listQuery, objectBody, objectPath } from '../schemas/objects.js';

type ObjectRoute = { Params: { className: string; id: string }; Querystring: { include?: string } };
type DeprecatedRoute = { Params: { id: string }; Querystring: { include?: string } };

/** The path of Weaviate's deprecated object routes, without the class. */
const idPath = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', format: 'uuid' } },
} as const;

const deprecated = (summary: string) => ({
  tags: ['objects'],
  summary: `${summary} (deprecated path without the class)`,
  deprecated: true,
  params: idPath,
});

/**
 * Objects: POST/GET /v1/objects, GET/HEAD/PUT/PATCH/DELETE /v1/objects/{className}/{id}, and the same
 * five on Weaviate's deprecated /v1/objects/{id}, which clients still call.
 */
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
    async (request, reply) => replace(db, reply, request.params.className, request.params.id, request.body),
  );

  app.patch<ObjectRoute & { Body: ObjectInput }>(
    '/objects/:className/:id',
    {
      schema: { tags: ['objects'], summary: 'Merge properties into an object', params: objectPath, body: objectBody },
      bodyLimit: OBJECT_LIMITS.bytes,
    },
    async (request, reply) => merge(db, reply, request.params.className, request.params.id, request.body),
  );

  app.delete<ObjectRoute>(
    '/objects/:className/:id',
    { schema: { tags: ['objects'], summary: 'Delete an object', params: objectPath } },
    async (request, reply) =>
      reply.status((await db.deleteObject(request.params.className, request.params.id)) ? 204 : 404).send(),
  );

  // Weaviate serves these by looking the id up in every class (usecases/objects), so the same id in two
  // classes is ambiguous: GET and HEAD answer the first class, in schema order, that has it (Weaviate:
  // whichever its search meets first), and DELETE deletes it from every class, as Weaviate does.
  app.get<DeprecatedRoute>(
    '/objects/:id',
    { schema: { ...deprecated('Get an object'), querystring: includeQuery } },
    async (request, reply) => {
      const object = await findObject(db, request.params.id);
      return object === undefined
        ? reply.status(404).send()
        : objectResponse(object, wantsVector(request.query.include));
    },
  );

  app.head<DeprecatedRoute>(
    '/objects/:id',
    { schema: deprecated('Check that an object exists') },
    async (request, reply) => reply.status((await findObject(db, request.params.id)) === undefined ? 404 : 204).send(),
  );

  // PUT and PATCH take the class from the body, as Weaviate does.
  app.put<DeprecatedRoute & { Body: ObjectInput }>(
    '/objects/:id',
    { schema: { ...deprecated('Replace an object'), body: objectBody }, bodyLimit: OBJECT_LIMITS.bytes },
    async (request, reply) => replace(db, reply, bodyClass('PUT', request.body), request.params.id, request.body),
  );

  app.patch<DeprecatedRoute & { Body: ObjectInput }>(
    '/objects/:id',
    { schema: { ...deprecated('Merge properties into an object'), body: objectBody }, bodyLimit: OBJECT_LIMITS.bytes },
    async (request, reply) => merge(db, reply, bodyClass('PATCH', request.body), request.params.id, request.body),
  );

  app.delete<DeprecatedRoute>(
    '/objects/:id',
    { schema: deprecated('Delete an object from every class that has it') },
    async (request, reply) => {
      let deleted = false;
      for (const { class: name } of db.classes()) deleted = (await db.deleteObject(name, request.params.id)) || deleted;
      return reply.status(deleted ? 204 : 404).send();
    },
  );
};

/** PUT: 404 when the object does not exist, else the object as replaced. */
async function replace(db: DataApi, reply: FastifyReply, className: string, id: string, body: ObjectInput) {
  if ((await db.getObject(className, id)) === undefined) return reply.status(404).send();
  return objectResponse(await db.updateObject(className, id, body, 'replace'), true);
}

/** PATCH: 404 when the object does not exist, else 204 once merged. */
async function merge(db: DataApi, reply: FastifyReply, className: string, id: string, body: ObjectInput) {
  if ((await db.getObject(className, id)) === undefined) return reply.status(404).send();
  await db.updateObject(className, id, body, 'merge');
  return reply.status(204).send();
}

/**
 * Object `id` in the first class, in schema order, that has it. Each lookup goes through the data
 * API, so on a cluster it is routed to the node owning the id's shard of that class; one class after
 * another, so a request asks one node at a time.
 */
async function findObject(db: DataApi, id: string): Promise<StoredObject | undefined> {
  for (const { class: name } of db.classes()) {
    const object = await db.getObject(name, id);
    if (object !== undefined) return object;
  }
  return undefined;
}

/** The class a deprecated PUT or PATCH names in its body. */
function bodyClass(method: string, body: ObjectInput): string {
  if (typeof body.class !== 'string' || body.class === '') throw new DeprecatedPathClassMissingError(method);
  return body.class;
}
