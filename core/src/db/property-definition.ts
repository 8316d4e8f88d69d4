/**
 * A class's properties as Weaviate (the version of WEAVIATE_API_VERSION, usecases/schema) takes them:
 * names and data types checked, tokenization and index flags defaulted and checked, then the
 * deprecated forms migrated (`string` to `text`, `indexInverted` to `indexFilterable` and
 * `indexSearchable`). Each rule refuses with Weaviate's message.
 */
import {
  CrossReferenceUnsupportedError,
  DataTypeLengthError,
  IndexInvertedConflictError,
  IndexRangeFiltersNotAllowedError,
  IndexSearchableNotAllowedError,
  InvalidNestedPropertyNameError,
  InvalidPropertyNameError,
  NestedDataTypeNotAllowedError,
  NestedIndexNotAllowedError,
  NestedPropertiesMissingError,
  NestedPropertiesNotAllowedError,
  NestedTokenizationNotAllowedError,
  NestingTooDeepError,
  PropertyFieldTypeError,
  PropertyNameMissingError,
  PropertyNameTooLongError,
  ReservedPropertyNameError,
  TokenizationNotAllowedError,
  TokenizationOnNonTextError,
  TokenizerNotEnabledError,
  UnknownDataTypeError,
} from '../errors.js';
import { isRecord, withoutNulls } from './json-objects.js';

/** The primitive data types Strata stores and validates (Weaviate's, without cross-references). */
export const DATA_TYPES = [
  'text',
  'text[]',
  'string',
  'string[]',
  'int',
  'int[]',
  'number',
  'number[]',
  'boolean',
  'boolean[]',
  'date',
  'date[]',
  'uuid',
  'uuid[]',
  'object',
  'object[]',
  'geoCoordinates',
  'phoneNumber',
  'blob',
] as const;

/** One of {@link DATA_TYPES}. */
export type DataType = (typeof DATA_TYPES)[number];

/** A property of a class, as normalized: its data type checked, Weaviate's index defaults filled in. */
export interface PropertyDefinition {
  name: string;
  dataType: [DataType];
  description?: string;
  nestedProperties?: PropertyDefinition[];
  [field: string]: unknown;
}

const PROPERTY_NAME = /^[_A-Za-z][_0-9A-Za-z]{0,230}$/;
/** The longest property name, which Weaviate reports apart from other broken names. */
const PROPERTY_NAME_LIMIT = 231;
const NESTED_PROPERTY_NAME = /^[_A-Za-z][_0-9A-Za-z]*$/;
const RESERVED_PROPERTY_NAMES = new Set(['_additional', '_id', 'id']);
/**
 * Levels of `nestedProperties` under a property; validation walks them recursively. 30 is as deep
 * as a `POST /v1/schema` body of at most 64 levels can declare.
 */
export const MAX_NESTING_DEPTH = 30;

/** Tokenizations of text properties, which Weaviate accepts whatever its configuration. */
const TEXT_TOKENIZATIONS = new Set(['word', 'lowercase', 'whitespace', 'field', 'trigram']);
/** Weaviate's optional tokenizers, each behind a variable that a default Weaviate (and Strata) leaves unset. */
const OPTIONAL_TOKENIZERS: Readonly<Record<string, readonly [label: string, variable: string]>> = {
  gse: ['GSE', 'ENABLE_TOKENIZER_GSE'],
  gse_ch: ['Chinese', 'ENABLE_TOKENIZER_GSE_CH'],
  kagome_kr: ['Korean', 'ENABLE_TOKENIZER_KAGOME_KR'],
  kagome_ja: ['Japanese', 'ENABLE_TOKENIZER_KAGOME_JA'],
};
/** Tokenizations of the deprecated `string` types, migrated as `string` becomes `text` (word to whitespace). */
const STRING_TOKENIZATIONS: Readonly<Record<string, string>> = { word: 'whitespace', field: 'field' };
/** The types whose properties may have a range index. */
const RANGE_TYPES = new Set(['int', 'number', 'date']);
/** Index flags and tokenization as the REST schema types them; restored classes are checked here. */
const FIELD_TYPES = {
  tokenization: 'string',
  indexFilterable: 'boolean',
  indexSearchable: 'boolean',
  indexRangeFilters: 'boolean',
  indexInverted: 'boolean',
} as const;

const isTextual = (type: DataType) => type === 'text' || type === 'text[]' || type === 'string' || type === 'string[]';
const isObject = (type: DataType) => type === 'object' || type === 'object[]';

function normalizeDataType(className: string, property: string, dataType: unknown): [DataType] {
  if (!Array.isArray(dataType) || dataType.length === 0 || !dataType.every((t) => typeof t === 'string')) {
    throw new DataTypeLengthError(property);
  }
  const [type] = dataType as string[];
  if (dataType.length > 1 || type === undefined) throw new DataTypeLengthError(property);
  if (/^[A-Z]/.test(type)) throw new CrossReferenceUnsupportedError(property, className, type);
  if (!(DATA_TYPES as readonly string[]).includes(type)) throw new UnknownDataTypeError(property, type);
  return [type as DataType];
}

function checkFieldTypes(property: string, given: Record<string, unknown>): void {
  for (const [field, type] of Object.entries(FIELD_TYPES)) {
    if (given[field] !== undefined && typeof given[field] !== type) {
      throw new PropertyFieldTypeError(property, field, type);
    }
  }
}

/** The tokenization a property gets: Weaviate's `word` for text types when unset (or ""), none for others. */
function tokenizationOf(type: DataType, given: unknown): string | undefined {
  if (given !== undefined && given !== '') return given as string;
  return isTextual(type) ? 'word' : undefined;
}

/** Weaviate's validatePropertyTokenization, for the tokenization {@link tokenizationOf} gave. */
function checkTokenization(type: DataType, tokenization: string | undefined): void {
  if (tokenization === undefined) return;
  if (type === 'string' || type === 'string[]') {
    if (tokenization in STRING_TOKENIZATIONS) return;
  } else if (type === 'text' || type === 'text[]') {
    if (TEXT_TOKENIZATIONS.has(tokenization)) return;
    const optional = OPTIONAL_TOKENIZERS[tokenization];
    if (optional !== undefined) throw new TokenizerNotEnabledError(...optional);
  } else {
    throw new TokenizationOnNonTextError(type);
  }
  throw new TokenizationNotAllowedError(tokenization, type);
}

/**
 * Weaviate's index flags: `indexInverted` alone stands for both filterable and (text only)
 * searchable, and is not kept; otherwise each flag has its default. Refuses what Weaviate's
 * validatePropertyIndexing refuses.
 */
function indexFlags(type: DataType, given: Record<string, unknown>): Record<string, boolean> {
  const inverted = given.indexInverted as boolean | undefined;
  if (
    inverted !== undefined &&
    (given.indexFilterable !== undefined ||
      given.indexSearchable !== undefined ||
      given.indexRangeFilters !== undefined)
  ) {
    throw new IndexInvertedConflictError();
  }
  if (given.indexSearchable === true && !isTextual(type)) throw new IndexSearchableNotAllowedError();
  if (given.indexRangeFilters === true && !RANGE_TYPES.has(type)) throw new IndexRangeFiltersNotAllowedError();
  return {
    indexFilterable: inverted ?? (given.indexFilterable as boolean | undefined) ?? true,
    indexSearchable: isTextual(type)
      ? (inverted ?? (given.indexSearchable as boolean | undefined) ?? true)
      : ((given.indexSearchable as boolean | undefined) ?? false),
    indexRangeFilters: (given.indexRangeFilters as boolean | undefined) ?? false,
  };
}

/** The types Weaviate keeps out of nested properties (its validateNestedPropertyDataType). */
const NOT_NESTABLE = new Set<DataType>(['string', 'string[]', 'geoCoordinates', 'phoneNumber']);
/** The tokenizations of nested text: trigram, allowed at the top level, is not among them. */
const NESTED_TOKENIZATIONS = new Set(['word', 'lowercase', 'whitespace', 'field']);

/** Weaviate's checks of a nested property with its defaults set (validateNestedProperties), in its order. */
function checkNested(path: string, type: DataType, property: PropertyDefinition): void {
  const { tokenization } = property;
  if (type === 'text' || type === 'text[]') {
    if (!NESTED_TOKENIZATIONS.has(tokenization as string)) {
      throw new NestedTokenizationNotAllowedError(path, type, tokenization as string);
    }
  } else if (tokenization !== undefined) {
    throw new NestedTokenizationNotAllowedError(path, type);
  }
  if (type === 'blob' && property.indexFilterable === true)
    throw new NestedIndexNotAllowedError(path, 'indexFilterable');
  if (property.indexSearchable === true && type !== 'text' && type !== 'text[]') {
    throw new NestedIndexNotAllowedError(path, 'indexSearchable');
  }
  if (property.indexRangeFilters === true && !RANGE_TYPES.has(type)) {
    throw new NestedIndexNotAllowedError(path, 'indexRangeFilters');
  }
}

function normalizeNested(className: string, parent: string, nested: unknown, depth: number): PropertyDefinition[] {
  if (depth > MAX_NESTING_DEPTH) throw new NestingTooDeepError(parent, MAX_NESTING_DEPTH);
  if (!Array.isArray(nested) || nested.length === 0) throw new NestedPropertiesMissingError(parent);
  return nested.map((entry) => {
    if (!isRecord(entry) || typeof entry.name !== 'string' || !NESTED_PROPERTY_NAME.test(entry.name)) {
      const name = isRecord(entry) ? String(entry.name) : String(entry);
      throw new InvalidNestedPropertyNameError(name, parent, NESTED_PROPERTY_NAME.source.slice(1, -1));
    }
    const path = `${parent}.${entry.name}`;
    const dataType = normalizeDataType(className, path, entry.dataType);
    const [type] = dataType;
    if (NOT_NESTABLE.has(type)) throw new NestedDataTypeNotAllowedError(path, type);
    const { tokenization, ...fields } = withoutNulls(entry);
    checkFieldTypes(path, fields);
    const text = type === 'text' || type === 'text[]';
    // Weaviate's setNestedPropertyDefaultIndexing: as top-level ones, but no filter index on blobs.
    const result: PropertyDefinition = {
      ...fields,
      name: entry.name,
      dataType,
      indexFilterable: fields.indexFilterable ?? type !== 'blob',
      indexSearchable: fields.indexSearchable ?? text,
      indexRangeFilters: fields.indexRangeFilters ?? false,
    };
    if (text) result.tokenization = tokenization === '' || tokenization === undefined ? 'word' : tokenization;
    else if (tokenization !== '' && tokenization !== undefined) result.tokenization = tokenization;
    checkNested(path, type, result);
    if (isObject(type)) {
      result.nestedProperties = normalizeNested(
        className,
        `${parent}.${entry.name}`,
        entry.nestedProperties,
        depth + 1,
      );
    }
    return result;
  });
}

/**
 * `name` with its first letter lower-cased: Weaviate stores a class's top-level property names so,
 * and finds an object's properties by their names so lowered (`Title` is the property `title`).
 */
export function lowercaseFirst(name: string): string {
  return name.length === 0 ? name : name[0]?.toLowerCase() + name.slice(1);
}

/**
 * One property of `className` as Weaviate stores it: defaults set, validated, then migrated, in
 * Weaviate's order (so a refused `string` property is named `string` in the message).
 * @throws one of the property errors of errors.ts, in Weaviate's wording.
 */
export function normalizeProperty(className: string, input: unknown): PropertyDefinition {
  if (!isRecord(input) || typeof input.name !== 'string') throw new PropertyNameMissingError();
  const name = lowercaseFirst(input.name);
  if (name.length > PROPERTY_NAME_LIMIT) throw new PropertyNameTooLongError(name, PROPERTY_NAME_LIMIT);
  if (!PROPERTY_NAME.test(name)) throw new InvalidPropertyNameError(name, PROPERTY_NAME.source.slice(1, -1));
  if (RESERVED_PROPERTY_NAMES.has(name.toLowerCase())) throw new ReservedPropertyNameError(name);
  const [type] = normalizeDataType(className, name, input.dataType);
  const fields = withoutNulls(input);
  checkFieldTypes(name, fields);
  // indexInverted becomes the flags, and tokenization is set again below, defaulted and migrated.
  const { indexInverted: _translated, tokenization: _defaulted, ...kept } = fields;
  const nested = isObject(type) ? normalizeNested(className, name, input.nestedProperties, 1) : undefined;
  if (nested === undefined && Array.isArray(input.nestedProperties) && input.nestedProperties.length > 0) {
    throw new NestedPropertiesNotAllowedError(name);
  }
  const tokenization = tokenizationOf(type, fields.tokenization);
  checkTokenization(type, tokenization);
  const flags = indexFlags(type, fields);
  if (type === 'string' || type === 'string[]') {
    const migrated: DataType = type === 'string' ? 'text' : 'text[]';
    return {
      ...kept,
      name,
      dataType: [migrated],
      ...flags,
      tokenization: STRING_TOKENIZATIONS[tokenization as string],
    };
  }
  return {
    ...kept,
    name,
    dataType: [type],
    ...flags,
    ...(tokenization === undefined ? {} : { tokenization }),
    ...(nested === undefined ? {} : { nestedProperties: nested }),
  };
}
