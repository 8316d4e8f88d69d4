import type { FastifyPluginAsync } from 'fastify';
import type { BatchResult, ObjectInput } from '../../db/index.js';
import { TimeSlice } from '../../time-slice.js';
import type { HttpContext } from '../context.js';
import { errorResponse } from '../error-body.js';
import { sendJsonArray } from '../json-reply.js';
import { objectResponse } from '../object-response.js';
import { batchBody, batchField, batchShape, objectBody } from '../schemas/objects.js';
import { invalidBodyPart } from '../validation-errors.js';
import { compileBodySchema, validatorCompiler } from '../validator.js';

function resultBody(result: BatchResult): Record<string, unknown> {
  return 'object' in result
    ? { ...objectResponse(result.object, true), result: { status: 'SUCCESS' } }
    : { ...result.input, result: { status: 'FAILED', errors: errorResponse(result.error.message) } };
}

/**
 * POST /v1/batch/objects: one result per object, in request order, each with its own errors. A
 * malformed object fails the whole request with a 422 naming it (`objects.3.vector.0 in body must be
 * of type number`), as Weaviate's request validation does. Every step that is linear in the batch
 * (validation, writing, serialising the results) lets the event loop turn every few milliseconds.
 */
export const batchRoutes: FastifyPluginAsync<HttpContext> = async (app, { db }) => {
  const validObject = compileBodySchema(objectBody);
  const validField = compileBodySchema(batchField);
  app.post<{ Body: { objects: ObjectInput[]; fields?: unknown[] } }>(
    '/batch/objects',
    {
      schema: { tags: ['batch'], summary: 'Create or overwrite many objects', body: batchBody },
      validatorCompiler: (route) => validatorCompiler({ ...route, schema: batchShape }),
    },
    async (request, reply) => {
      const { objects, fields = [] } = request.body;
      const slice = new TimeSlice();
      for (const [i, field] of fields.entries()) {
        if (!validField(field)) throw invalidBodyPart(validField.errors ?? [], `/fields/${i}`);
        if (slice.due) await slice.next();
      }
      for (const [i, object] of objects.entries()) {
        if (!validObject(object)) throw invalidBodyPart(validObject.errors ?? [], `/objects/${i}`);
        if (slice.due) await slice.next();
      }
      return sendJsonArray(reply, await db.batchObjects(objects), resultBody);
    },
  );
};
