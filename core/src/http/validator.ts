import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

/**
 * Request validation as Weaviate's go-swagger layer does it: bodies are checked as they are (a class
 * given as 7 is a wrong type, not the string "7"), while query and path parameters, which are
 * strings on the wire, are converted to the declared types. One Ajv instance for each.
 */
function ajv(coerceTypes: boolean): Ajv {
  const instance = new Ajv({ coerceTypes, useDefaults: true, allErrors: false, verbose: true, strict: false });
  addFormats.default(instance);
  return instance;
}

const forBody = ajv(false);
const forParameters = ajv(true);

/** Compiles a body schema as route validation does, for the parts of a body a handler checks itself. */
export const compileBodySchema = (schema: object): ValidateFunction => forBody.compile(schema);

export const validatorCompiler: FastifySchemaCompiler<object> = ({ schema, httpPart }) =>
  (httpPart === 'body' ? forBody : forParameters).compile(schema) as ValidateFunction;
