/**
 * Validation rules run before graphql-js's own, so a query asking for what Weaviate serves and Strata
 * does not (where, nearVector, groupBy, Explore, property aggregations, _additional { distance }, ...)
 * is told so, not that the field or argument is unknown.
 */
import { type ASTNode, GraphQLError, type ValidationRule } from 'graphql';
import { GraphqlDuplicateFieldError, GraphqlUnsupportedError } from '../../errors.js';
import type { TypeRole } from './schema-builder.js';

/** Weaviate's root fields beyond Get and Aggregate. */
const WEAVIATE_ROOT_FIELDS = new Set(['Explore']);

/** The rule naming what a query asks for beyond Strata's subset; `roles` from the schema's builder. */
export function subsetRule(roles: ReadonlyMap<string, TypeRole>): ValidationRule {
  return (context) => {
    const unsupported = (what: string, node: ASTNode) =>
      context.reportError(new GraphQLError(new GraphqlUnsupportedError(what).message, { nodes: node }));
    return {
      Field(node) {
        const role = roles.get(context.getParentType()?.name ?? '');
        const definition = context.getFieldDef();
        const name = node.name.value;
        if (role === 'root') {
          if (definition == null && WEAVIATE_ROOT_FIELDS.has(name)) unsupported(name, node);
        } else if ((role === 'get' || role === 'aggregate') && definition != null) {
          const root = role === 'get' ? 'Get' : 'Aggregate';
          for (const argument of node.arguments ?? []) {
            if (!definition.args.some((declared) => declared.name === argument.name.value)) {
              unsupported(`the argument ${argument.name.value} of ${root} { ${name} }`, argument);
            }
          }
        } else if (role !== undefined && role !== 'get' && role !== 'aggregate' && definition == null) {
          const where = role === 'additional' ? '_additional' : role === 'meta' ? 'meta' : 'Aggregate { <Class> }';
          unsupported(`${name} in ${where}`, node);
        }
      },
    };
  };
}

/**
 * A field (or alias) selected twice in one selection set. Stands in for graphql-js's
 * OverlappingFieldsCanBeMergedRule, which compares fields of one name pairwise: 500 fields aliased
 * alike held the event loop for half a second. This compares nothing, so fields of one name merged
 * through fragments are not checked for conflicts; graphql-js then answers the first of them.
 */
export const uniqueFieldsRule: ValidationRule = (context) => ({
  SelectionSet(node) {
    // Each key once: its first repeat is reported, not every one.
    const seen = new Map<string, boolean>();
    for (const selection of node.selections) {
      if (selection.kind !== 'Field') continue;
      const key = selection.alias?.value ?? selection.name.value;
      const reported = seen.get(key);
      if (reported === false) {
        context.reportError(new GraphQLError(new GraphqlDuplicateFieldError(key).message, { nodes: selection }));
      }
      seen.set(key, reported !== undefined);
    }
  },
});
