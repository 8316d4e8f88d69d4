/**
 * Checks an object's properties against its class, with Weaviate's messages. Strata has no
 * auto-schema: a property the class does not declare is refused, as Weaviate does with
 * AUTOSCHEMA_ENABLED=false.
 */
import {
  InvalidPropertyValueError,
  InvalidVectorError,
  PropertiesNotMapError,
  propertyValueProblems as problems,
  UnknownPropertyError,
  VectorTooLongError,
} from '../errors.js';
import type { ClassDefinition } from './class-definition.js';
import { isRecord } from './json-objects.js';
import { type DataType, lowercaseFirst, type PropertyDefinition } from './property-definition.js';
import { isUuid } from './uuid.js';

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
      return typeof value === 'string' ? undefined : problems.notString(typeName(value));
    case 'int':
      return Number.isSafeInteger(value) ? undefined : problems.notInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? undefined : problems.notFloat(value);
    case 'boolean':
      return typeof value === 'boolean' ? undefined : problems.notBoolean(value);
    case 'date':
      return typeof value === 'string' && RFC3339.test(value) && !Number.isNaN(Date.parse(value))
        ? undefined
        : problems.notDate(value);
    case 'uuid':
      return isUuid(value) ? undefined : problems.notUuid(value);
    case 'blob':
      return typeof value === 'string' && BASE64.test(value) ? undefined : problems.notBase64();
    case 'geoCoordinates':
      return isRecord(value) && typeof value.latitude === 'number' && typeof value.longitude === 'number'
        ? undefined
        : problems.notGeoCoordinates();
    case 'phoneNumber':
      return isRecord(value) && typeof value.input === 'string' ? undefined : problems.notPhoneNumber();
    case 'object':
      return isRecord(value) ? nestedProblem(nested ?? [], value, path) : problems.notMap(typeName(value));
    default:
      return problems.unknownType(type);
  }
}

function nestedProblem(nested: PropertyDefinition[], value: Record<string, unknown>, path: string): string | undefined {
  for (const [name, inner] of Object.entries(value)) {
    const property = nested.find((p) => p.name === name);
    if (property === undefined) return problems.unknownNested(`${path}.${name}`);
    const problem = valueProblem(property.dataType[0], inner, property.nestedProperties, `${path}.${name}`);
    if (problem !== undefined) return problems.inNested(`${path}.${name}`, problem);
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
  if (!Array.isArray(value)) return problems.notArray(typeName(value));
  if (value.length > OBJECT_LIMITS.arrayItems) return problems.tooManyItems(value.length, OBJECT_LIMITS.arrayItems);
  for (const [i, item] of value.entries()) {
    const problem = scalarProblem(type.slice(0, -2), item, nested, `${path}[${i}]`);
    if (problem !== undefined) return problems.inElement(i, problem);
  }
  return undefined;
}

function typeName(value: unknown): string {
  return Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
}

/**
 * Validates `properties` (undefined means none) for class `cls`.
 * @throws PropertiesNotMapError, UnknownPropertyError, InvalidPropertyValueError naming the property and
 * what is wrong.
 */
export function validateProperties(cls: ClassDefinition, properties: unknown): Record<string, unknown> {
  if (properties === undefined || properties === null) return {};
  if (!isRecord(properties)) throw new PropertiesNotMapError(typeName(properties));
  // As Weaviate: a null value is no value, and a property is named as its class stores it.
  const validated: Record<string, unknown> = {};
  for (const [given, value] of Object.entries(properties)) {
    if (value === null) continue;
    const name = lowercaseFirst(given);
    const property = cls.properties.find((p) => p.name === name);
    if (property === undefined) throw new UnknownPropertyError(name, cls.class);
    const type = property.dataType[0];
    const problem = valueProblem(type, value, property.nestedProperties, name);
    if (problem !== undefined) throw new InvalidPropertyValueError(type, name, cls.class, problem);
    validated[name] = value;
  }
  return validated;
}

/**
 * Checks a vector: an array of finite numbers.
 * @throws VectorTooLongError, InvalidVectorError naming `field`.
 */
export function validateVector(vector: unknown, field: string): number[] | undefined {
  if (vector === undefined || vector === null) return undefined;
  if (Array.isArray(vector) && vector.length > OBJECT_LIMITS.dimensions) {
    throw new VectorTooLongError(field, vector.length, OBJECT_LIMITS.dimensions);
  }
  if (!Array.isArray(vector) || !vector.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    throw new InvalidVectorError(field);
  }
  return vector as number[];
}
