import type { FastifyPluginAsync } from 'fastify';
import type { HttpContext } from '../context.js';
import { classBody, classPath } from '../schemas/classes.js';

/** The schema: POST/GET /v1/schema, GET/DELETE /v1/schema/{className}. */
export const schemaRoutes: FastifyPluginAsync<HttpContext> = async (app, { db }) => {
  app.post('/schema', { schema: { tags: ['schema'], summary: 'Create a class', body: classBody } }, async (request) =>
    db.createClass(request.body),
  );

  app.get('/schema', { schema: { tags: ['schema'], summary: 'List every class' } }, async () => ({
    classes: db.classes(),
  }));

  app.get<{ Params: { className: string } }>(
    '/schema/:className',
    { schema: { tags: ['schema'], summary: 'Get a class', params: classPath } },
    async (request, reply) => {
      const found = db.getClass(request.params.className);
      return found === undefined ? reply.status(404).send() : found;
    },
  );

  app.delete<{ Params: { className: string } }>(
    '/schema/:className',
    { schema: { tags: ['schema'], summary: 'Delete a class and all its objects', params: classPath } },
    async (request, reply) => {
      await db.deleteClass(request.params.className);
      return reply.status(200).send();
    },
  );
};
