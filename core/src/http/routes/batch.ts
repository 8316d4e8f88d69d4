import type { FastifyPluginAsync } from 'fastify';
import type { ObjectInput } from '../../db/index.js';
import type { HttpContext } from '../context.js';
import { errorResponse } from '../error-body.js';
import { objectResponse } from '../object-response.js';
import { batchBody } from '../schemas/objects.js';

/** POST /v1/batch/objects: one result per object, in request order, each with its own errors. */
export const batchRoutes: FastifyPluginAsync<HttpContext> = async (app, { db }) => {
  app.post<{ Body: { objects: ObjectInput[] } }>(
    '/batch/objects',
    { schema: { tags: ['batch'], summary: 'Create or overwrite many objects', body: batchBody } },
    async (request) => {
      const results = await db.batchObjects(request.body.objects);
      return results.map((result) =>
        'object' in result
          ? { ...objectResponse(result.object, true), result: { status: 'SUCCESS' } }
          : { ...result.input, result: { status: 'FAILED', errors: errorResponse(result.error.message) } },
      );
    },
  );
};
