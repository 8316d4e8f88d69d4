import { excerpt } from '../errors.js';
import type { ProtocolError } from './error-body.js';

/**
 * Turns a request-validation failure (from Fastify's Ajv) into the body go-openapi would send for
 * it, e.g. `{"code":608,"message":"config.CPUPercentage in body should be less than or equal to 80"}`.
 * The codes are go-openapi's (errors/schema.go): 601 + the position of the rule in its list.
 */

interface AjvError {
  readonly keyword: string;
  readonly instancePath: string;
  readonly params: Record<string, unknown>;
  readonly data?: unknown;
}

const CODES: Record<string, number> = {
  type: 601,
  format: 601,
  required: 602,
  maxLength: 603,
  minLength: 604,
  pattern: 605,
  enum: 606,
  multipleOf: 607,
  maximum: 608,
  exclusiveMaximum: 608,
  minimum: 609,
  exclusiveMinimum: 609,
  uniqueItems: 610,
  maxItems: 611,
  minItems: 612,
  minProperties: 614,
  maxProperties: 615,
};

const LOCATIONS: Record<string, string> = { body: 'body', querystring: 'query', params: 'path', headers: 'header' };

/** `/config/CPUPercentage` -> `config.CPUPercentage`; the whole body is `body`. */
function nameOf(error: AjvError, context: string): string {
  const path = error.instancePath.split('/').filter(Boolean).join('.');
  const missing = error.params.missingProperty;
  if (error.keyword === 'required' && typeof missing === 'string') return path === '' ? missing : `${path}.${missing}`;
  return path === '' ? context : path;
}

/** `: "<the value>"` for a string value (a bounded excerpt of it), else nothing, as go-openapi prints. */
const quotedData = (error: AjvError) =>
  typeof error.data === 'string' ? `: ${JSON.stringify(excerpt(error.data))}` : '';

function rule(error: AjvError): string {
  const { params } = error;
  switch (error.keyword) {
    case 'type':
      return `must be of type ${String(params.type)}${quotedData(error)}`;
    case 'format':
      return `must be of type ${String(params.format)}${quotedData(error)}`;
    case 'required':
      return 'is required';
    case 'maxLength':
      return `should be at most ${String(params.limit)} chars long`;
    case 'minLength':
      return `should be at least ${String(params.limit)} chars long`;
    case 'pattern':
      return `should match '${String(params.pattern)}'`;
    case 'enum':
      return `should be one of [${(params.allowedValues as unknown[]).join(' ')}]`;
    case 'multipleOf':
      return `should be a multiple of ${String(params.multipleOf)}`;
    case 'maximum':
      return `should be less than or equal to ${String(params.limit)}`;
    case 'exclusiveMaximum':
      return `should be less than ${String(params.limit)}`;
    case 'minimum':
      return `should be greater than or equal to ${String(params.limit)}`;
    case 'exclusiveMinimum':
      return `should be greater than ${String(params.limit)}`;
    case 'uniqueItems':
      return "shouldn't contain duplicates";
    case 'maxItems':
      return `should have at most ${String(params.limit)} items`;
    case 'minItems':
      return `should have at least ${String(params.limit)} items`;
    case 'maxProperties':
      return `should have at most ${String(params.limit)} properties`;
    case 'minProperties':
      return `should have at least ${String(params.limit)} properties`;
    default:
      return `is invalid (${error.keyword})`;
  }
}

/**
 * A failure of part of a body that its handler validated itself (`path` is where the part is, as a
 * JSON pointer, e.g. `/objects/7`): answered as route validation's failures are.
 */
export function invalidBodyPart(errors: readonly AjvError[], path: string): Error {
  return Object.assign(new Error(`request body ${path} is invalid`), {
    validation: errors.map((error) => ({ ...error, instancePath: `${path}${error.instancePath}` })),
    validationContext: 'body',
  });
}

export function validationError(errors: readonly AjvError[], context: string): ProtocolError {
  const [first] = errors;
  if (first === undefined) return { code: 422, message: 'validation failure list' };
  const location = LOCATIONS[context] ?? context;
  if (first.instancePath === '' && first.keyword === 'type' && (first.data === undefined || first.data === null)) {
    return { code: CODES.required as number, message: `${context} in ${location} is required` };
  }
  return { code: CODES[first.keyword] ?? 422, message: `${nameOf(first, location)} in ${location} ${rule(first)}` };
}
