import { Readable } from 'node:stream';
import type { FastifyPluginAsync } from 'fastify';
import type { BatchResult, ObjectInput } from '../../db/index.js';
import { TimeSlice } from '../../time-slice.js';
import type { HttpContext } from '../context.js';
import { errorResponse } from '../error-body.js';
import { objectResponse } from '../object-response.js';
import { batchBody, batchField, batchShape, objectBody } from '../schemas/objects.js';
import { invalidBodyPart } from '../validation-errors.js';
import { compileBodySchema, validatorCompiler } from '../validator.js';

/** Serialised results are sent in chunks of about this many characters. */
const CHUNK_CHARS = 64 * 1024;

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
      const results = await db.batchObjects(objects);
      // JSON.stringify of all the results at once would hold the event loop as long as parsing them did.
      const chunks: Buffer[] = [];
      let text = '[';
      for (const [i, result] of results.entries()) {
        text += `${i === 0 ? '' : ','}${JSON.stringify(resultBody(result))}`;
        if (text.length >= CHUNK_CHARS) {
          chunks.push(Buffer.from(text));
          text = '';
        }
        if (slice.due) await slice.next();
      }
      chunks.push(Buffer.from(`${text}]`));
      const length = chunks.reduce((total, chunk) => total + chunk.length, 0);
      return reply.type('application/json; charset=utf-8').header('content-length', length).send(Readable.from(chunks));
    },
  );
};
