import { excerpt, InvalidObjectError } from '../errors.js';
import type { ClassDefinition, DataType, PropertyDefinition } from './class-definition.js';
import { isUuid } from './uuid.js';

/**
 * Checks an object's properties against its class, with Weaviate's messages. Strata has no
 * auto-schema: a property the class does not declare is refused, as Weaviate does with
 * AUTOSCHEMA_ENABLED=false.
 */

/**
 * What one object may hold. Each object is checked, encoded, stored and answered in one go, so its
 * size bounds how long that holds the event loop: 4 MiB is a few milliseconds; a 3-million-item array
 * held it for 0.7 s and a 60 MB string for 1.5 s. Weaviate sets none of these.
 */
export const OBJECT_LIMITS = {
  /** Bytes of an object as JSON (its body, or its part of a batch). */
  bytes: 4 * 1024 * 1024,
  /** Dimensions of a vector. */
  dimensions: 65_536,
  /** Named vectors of an object. */
  namedVectors: 16,
  /** Items of an array property. */
  arrayItems: 65_536,
} as const;

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Why `value` is not a valid single value of `type`, or undefined. */
function scalarProblem(
  type: string,
  value: unknown,
  nested: PropertyDefinition[] | undefined,
  path: string,
): string | undefined {
  switch (type) {
    case 'text':
    case 'string':
      return typeof value === 'string' ? undefined : `not a string, but ${typeName(value)}`;
    case 'int':
      return Number.isSafeInteger(value) ? undefined : `requires an integer, the given value is '${excerpt(value)}'`;
    case 'number':
      return typeof value === 'number' && Number.isFinite(value)
        ? undefined
        : `requires a float, the given value is '${excerpt(value)}'`;
    case 'boolean':
      return typeof value === 'boolean' ? undefined : `requires a bool, the given value is '${excerpt(value)}'`;
    case 'date':
      return typeof value === 'string' && RFC3339.test(value) && !Number.isNaN(Date.parse(value))
        ? undefined
        : `requires a string with a RFC3339 formatted date, but the given value is '${excerpt(value)}'`;
    case 'uuid':
      return isUuid(value) ? undefined : `requires a string with a valid UUID, the given value is '${excerpt(value)}'`;
    case 'blob':
      return typeof value === 'string' && BASE64.test(value) ? undefined : 'requires a base64 encoded string';
    case 'geoCoordinates':
      return isRecord(value) && typeof value.latitude === 'number' && typeof value.longitude === 'number'
        ? undefined
        : 'requires an object with numeric latitude and longitude';
    case 'phoneNumber':
      return isRecord(value) && typeof value.input === 'string' ? undefined : 'requires an object with a string input';
    case 'object':
      return isRecord(value)
        ? nestedProblem(nested ?? [], value, path)
        : `object must be a map, but got: ${typeName(value)}`;
    default:
      return `unrecognized data type '${type}'`;
  }
}

function nestedProblem(nested: PropertyDefinition[], value: Record<string, unknown>, path: string): string | undefined {
  for (const [name, inner] of Object.entries(value)) {
    const property = nested.find((p) => p.name === name);
    if (property === undefined) return `unknown nested property '${excerpt(`${path}.${name}`)}'`;
    const problem = valueProblem(property.dataType[0], inner, property.nestedProperties, `${path}.${name}`);
    if (problem !== undefined) return `property '${excerpt(`${path}.${name}`)}': ${problem}`;
  }
  return undefined;
}

function valueProblem(
  type: DataType,
  value: unknown,
  nested: PropertyDefinition[] | undefined,
  path: string,
): string | undefined {
  if (value === null) return undefined;
  if (!type.endsWith('[]')) return scalarProblem(type, value, nested, path);
  if (!Array.isArray(value)) return `not an array, but ${typeName(value)}`;
  if (value.length > OBJECT_LIMITS.arrayItems) {
    return `it has ${value.length} items, more than the limit of ${OBJECT_LIMITS.arrayItems}`;
  }
  for (const [i, item] of value.entries()) {
    const problem = scalarProblem(type.slice(0, -2), item, nested, `${path}[${i}]`);
    if (problem !== undefined) return `element ${i}: ${problem}`;
  }
  return undefined;
}

function typeName(value: unknown): string {
  return Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
}

/**
 * Validates `properties` (undefined means none) for class `cls`.
 * @throws InvalidObjectError naming the property and what is wrong.
 */
export function validateProperties(cls: ClassDefinition, properties: unknown): Record<string, unknown> {
  if (properties === undefined || properties === null) return {};
  if (!isRecord(properties)) {
    throw new InvalidObjectError(
      `properties of object must be of type map[string]interface, but got ${typeName(properties)}`,
    );
  }
  for (const [name, value] of Object.entries(properties)) {
    const property = cls.properties.find((p) => p.name === name);
    if (property === undefined) {
      throw new InvalidObjectError(
        `no such prop with name '${excerpt(name)}' found in class '${cls.class}' in the schema. Check your schema files for ` +
          'which properties in this class are available',
      );
    }
    const type = property.dataType[0];
    const problem = valueProblem(type, value, property.nestedProperties, name);
    if (problem !== undefined) {
      throw new InvalidObjectError(
        `invalid ${type.replace('[]', ' array')} property '${excerpt(name)}' on class '${cls.class}': ${problem}`,
      );
    }
  }
  return properties;
}

/** Checks a vector: an array of finite numbers. */
export function validateVector(vector: unknown, field: string): number[] | undefined {
  if (vector === undefined || vector === null) return undefined;
  if (Array.isArray(vector) && vector.length > OBJECT_LIMITS.dimensions) {
    throw new InvalidObjectError(
      `${field} has ${vector.length} dimensions, more than the limit of ${OBJECT_LIMITS.dimensions}`,
    );
  }
  if (!Array.isArray(vector) || !vector.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    throw new InvalidObjectError(`${field} must be an array of numbers`);
  }
  return vector as number[];
}
