/**
 * The GraphQL type of each property, as Weaviate's Get builds it (adapters/handlers/graphql/local/get):
 * text, date, uuid and blob are String, int Int, number Float, boolean Boolean, arrays lists of those,
 * object a nested object type, geoCoordinates and phoneNumber Weaviate's object types.
 */
import {
  GraphQLBoolean,
  GraphQLFloat,
  GraphQLInt,
  GraphQLList,
  GraphQLObjectType,
  type GraphQLOutputType,
  GraphQLString,
} from 'graphql';
import type { PropertyDefinition } from '../../db/index.js';
import type { TypeNames } from './type-names.js';

const SCALARS: Record<string, GraphQLOutputType> = {
  text: GraphQLString,
  string: GraphQLString,
  int: GraphQLInt,
  number: GraphQLFloat,
  boolean: GraphQLBoolean,
  date: GraphQLString,
  uuid: GraphQLString,
  blob: GraphQLString,
};

/**
 * The type of property `property` of class `className`; `path` is its name, with its parents' for a
 * nested one (`address_street`), as Weaviate names nested types.
 */
export function propertyType(
  names: TypeNames,
  className: string,
  property: PropertyDefinition,
  path: string = property.name,
): GraphQLOutputType {
  const [dataType] = property.dataType;
  const list = dataType.endsWith('[]');
  const base = list ? dataType.slice(0, -2) : dataType;
  let type: GraphQLOutputType;
  if (base === 'object') type = nestedObject(names, className, property, path);
  else if (base === 'geoCoordinates') type = geoCoordinates(names.unique(`${className}${path}GeoCoordinatesObj`));
  else if (base === 'phoneNumber') type = phoneNumber(names.unique(`${className}${path}PhoneNumberObj`));
  else type = SCALARS[base] as GraphQLOutputType; // every other type of DATA_TYPES
  return list ? new GraphQLList(type) : type;
}

function nestedObject(
  names: TypeNames,
  className: string,
  property: PropertyDefinition,
  path: string,
): GraphQLObjectType {
  const nested = property.nestedProperties ?? [];
  return new GraphQLObjectType({
    name: names.unique(`${className}_${path}_object`),
    fields: () =>
      Object.fromEntries(
        nested.map((inner) => [inner.name, { type: propertyType(names, className, inner, `${path}_${inner.name}`) }]),
      ),
  });
}

function geoCoordinates(name: string): GraphQLObjectType {
  return new GraphQLObjectType({
    name,
    description: 'GeoCoordinates as latitude and longitude in decimal form',
    fields: { latitude: { type: GraphQLFloat }, longitude: { type: GraphQLFloat } },
  });
}

function phoneNumber(name: string): GraphQLObjectType {
  return new GraphQLObjectType({
    name,
    description: 'PhoneNumber in various parsed formats',
    fields: {
      input: { type: GraphQLString },
      internationalFormatted: { type: GraphQLString },
      nationalFormatted: { type: GraphQLString },
      national: { type: GraphQLInt },
      valid: { type: GraphQLBoolean },
      countryCode: { type: GraphQLInt },
      defaultCountry: { type: GraphQLString },
    },
  });
}
