/**
 * The GraphQL schema of the classes, in Weaviate's shape and type names (adapters/handlers/graphql):
 * `Get` with a field per class taking limit, offset and after, each object its properties and
 * `_additional { id vector creationTimeUnix lastUpdateTimeUnix }`; `Aggregate` with a field per class
 * answering `meta { count }`. Nothing else of Weaviate's is declared: the subset rule (subset-rule.ts)
 * names what a query asks for beyond it.
 */
import {
  type GraphQLFieldConfig,
  type GraphQLFieldConfigMap,
  GraphQLFloat,
  GraphQLInt,
  GraphQLList,
  GraphQLObjectType,
  GraphQLSchema,
  GraphQLString,
} from 'graphql';
import type { ClassDefinition, StoredObject } from '../../db/index.js';
import { propertyType } from './property-types.js';
import type { QueryContext } from './query-context.js';
import { type GetArguments, resolveAggregate, resolveGet } from './resolvers.js';
import { TypeNames } from './type-names.js';

/** What a type of the schema is to the subset rule: where a field asked for beyond the subset is. */
export type TypeRole = 'root' | 'get' | 'aggregate' | 'aggregateClass' | 'meta' | 'additional';

/** A schema and the role of each of its types that the subset rule checks. */
export interface BuiltSchema {
  readonly schema: GraphQLSchema;
  readonly roles: ReadonlyMap<string, TypeRole>;
}

type Fields = GraphQLFieldConfigMap<unknown, QueryContext>;

/** The schema of `classes` (at least one: Weaviate has no GraphQL schema without a class). */
export function buildSchema(classes: readonly ClassDefinition[]): BuiltSchema {
  const names = new TypeNames();
  const roles = new Map<string, TypeRole>();
  const role = (name: string, as: TypeRole) => {
    roles.set(name, as);
    return name;
  };
  // Class names first, so a class keeps its name and a helper type colliding with it gives way.
  const objectNames = classes.map((definition) => names.unique(definition.class));
  const get: Fields = {};
  const aggregate: Fields = {};
  for (const [i, definition] of classes.entries()) {
    get[definition.class] = getField(definition, objectNames[i] as string, names, role);
    aggregate[definition.class] = aggregateField(definition, names, role);
  }
  const passThrough = () => ({});
  const query = new GraphQLObjectType({
    name: role('WeaviateObj', 'root'),
    description: 'Location of the root query',
    fields: {
      Get: {
        type: new GraphQLObjectType({ name: role('GetObjectsObj', 'get'), fields: get }),
        resolve: passThrough,
      },
      Aggregate: {
        type: new GraphQLObjectType({ name: role('AggregateObjectsObj', 'aggregate'), fields: aggregate }),
        resolve: passThrough,
      },
    },
  });
  return { schema: new GraphQLSchema({ query }), roles };
}

function getField(
  definition: ClassDefinition,
  objectName: string,
  names: TypeNames,
  role: (name: string, as: TypeRole) => string,
): GraphQLFieldConfig<unknown, QueryContext, GetArguments> {
  const className = definition.class;
  const additional = new GraphQLObjectType<StoredObject>({
    name: role(names.unique(`${className}Additional`), 'additional'),
    fields: {
      id: { type: GraphQLString },
      vector: { type: new GraphQLList(GraphQLFloat), resolve: (object) => object.vector ?? null },
      // Strings, as Weaviate answers them.
      creationTimeUnix: { type: GraphQLString, resolve: (object) => String(object.creationTimeUnix) },
      lastUpdateTimeUnix: { type: GraphQLString, resolve: (object) => String(object.lastUpdateTimeUnix) },
    },
  });
  const object = new GraphQLObjectType<StoredObject>({
    name: objectName,
    ...(typeof definition.description === 'string' ? { description: definition.description } : {}),
    fields: () => ({
      ...Object.fromEntries(
        definition.properties.map((property) => [
          property.name,
          {
            type: propertyType(names, className, property),
            resolve: (stored: StoredObject) => stored.properties[property.name],
          },
        ]),
      ),
      _additional: { type: additional, resolve: (stored: StoredObject) => stored },
    }),
  });
  return {
    type: new GraphQLList(object),
    args: { limit: { type: GraphQLInt }, offset: { type: GraphQLInt }, after: { type: GraphQLString } },
    resolve: (_source, args, context) => resolveGet(className, args, context),
  };
}

function aggregateField(
  definition: ClassDefinition,
  names: TypeNames,
  role: (name: string, as: TypeRole) => string,
): GraphQLFieldConfig<unknown, QueryContext> {
  const className = definition.class;
  const meta = new GraphQLObjectType({
    name: role(names.unique(`Aggregate${className}MetaObject`), 'meta'),
    fields: { count: { type: GraphQLInt } },
  });
  const group = new GraphQLObjectType({
    name: role(names.unique(`Aggregate${className}`), 'aggregateClass'),
    fields: { meta: { type: meta } },
  });
  return { type: new GraphQLList(group), resolve: (_source, _args, context) => resolveAggregate(className, context) };
}
